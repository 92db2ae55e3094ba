/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.ace;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hook;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;

/**
 * Directional ablation (Arditi, Obeso, Syed, Paleka, Panickssery, Gurnee, Nanda 2024, "Refusal in
 * Language Models Is Mediated by a Single Direction", arXiv:2406.11717).
 *
 * <pre>
 *   r  = (mu+ - mu-) / |mu+ - mu-|     (difference in means at the hook it is read from)
 *   x' = x - (x . r) r                 at every ablation point and selected position
 * </pre>
 * {@link Scope#EVERY_LAYER} ablates as the paper does, from the stream entering every block and
 * from every component's write to it ({@code resid_pre}, {@code attn_out}, {@code mlp_out} of all
 * blocks), so no block output carries any component along {@code r}; {@link Scope#AT_HOOK} ablates
 * only where {@code r} was read. Dot products are taken in double precision.
 */
public final class DirectionalAblation implements SteeringMethod {
    /** Where the direction is removed. */
    public enum Scope {
        /** Only at the hook point the direction was read from. */
        AT_HOOK,
        /** From {@code resid_pre}, {@code attn_out} and {@code mlp_out} of every block, as the paper does. */
        EVERY_LAYER
    }

    private final HookName hook;
    private final Scope scope;
    private final Readout readout;
    private final PositionRule positions;

    /** Last-token readout, ablation at all positions. */
    public DirectionalAblation(HookName hook, Scope scope) {
        this(hook, scope, Readout.last(), PositionRule.all());
    }

    /** Reads the direction at {@code hook} from the rows {@code readout} selects and removes it at {@code positions}, where {@code scope} says. */
    public DirectionalAblation(HookName hook, Scope scope, Readout readout, PositionRule positions) {
        if (hook == null || scope == null || readout == null || positions == null) throw new IllegalArgumentException("directional ablation needs a hook point, a scope, a readout and a position rule");
        this.hook = hook;
        this.scope = scope;
        this.readout = readout;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "ablation";
    }

    @Override
    public Ablate fit(Model model, ContrastSet data) {
        ConceptDirection concept = ConceptDirection.fit(model, data, hook, readout, name());
        List<HookName> points = new ArrayList<>();
        if (scope == Scope.AT_HOOK) {
            points.add(hook);
        } else {
            for (int l = 0; l < model.config().numLayers(); l++) {
                for (HookPoint p : new HookPoint[] {HookPoint.RESID_PRE, HookPoint.ATTN_OUT, HookPoint.MLP_OUT}) points.add(new HookName(l, p));
            }
        }
        return new Ablate(concept.unit().direction(), points, positions);
    }

    /** Removes the component along a unit direction, {@code x' = x - (x . r) r}, at the given points. */
    public static final class Ablate implements Intervention {
        private final float[] r;
        private final List<HookName> points;
        private final PositionRule positions;

        /** {@code unit} must have norm 1 (within float rounding). */
        public Ablate(float[] unit, List<HookName> points, PositionRule positions) {
            double n = 0;
            for (float v : unit) n += (double) v * v;
            if (Math.abs(Math.sqrt(n) - 1) > 1e-4) throw new IllegalArgumentException("ablation direction must have unit norm, got " + Math.sqrt(n));
            if (points.isEmpty()) throw new IllegalArgumentException("no ablation points");
            this.r = unit.clone();
            this.points = List.copyOf(points);
            this.positions = positions;
        }

        /** The unit direction removed. */
        public float[] direction() {
            return r.clone();
        }

        @Override
        public Hooks.Handle attach(State state) {
            int d = r.length;
            List<Hooks.Handle> handles = new ArrayList<>();
            Hooks.Handle all = () -> handles.forEach(Hooks.Handle::close);
            try {
                for (HookName p : points) handles.add(state.hooks().add(p, hook(d)));
            } catch (RuntimeException e) {
                all.close();
                throw e;
            }
            return all;
        }

        private Hook hook(int d) {
            return (ctx, x) -> {
                if (ctx.width() != d) throw new IllegalArgumentException("ablation direction has " + d + " values, the model's hidden size is " + ctx.width());
                for (int t = 0; t < ctx.tokens(); t++) {
                    if (!positions.includes(ctx, t)) continue;
                    int off = t * d;
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += (double) x[off + i] * r[i];
                    for (int i = 0; i < d; i++) x[off + i] = (float) (x[off + i] - dot * r[i]);
                }
            };
        }

        @Override
        public String describe() {
            return "ablation of one direction at " + (points.size() == 1 ? points.getFirst().toString() : points.size() + " points") + " " + positions;
        }
    }
}
