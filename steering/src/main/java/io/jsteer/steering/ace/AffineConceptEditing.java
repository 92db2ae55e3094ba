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
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;

/**
 * Affine Concept Editing (Marshall, Scherlis, Belrose 2024, "Refusal in LLMs is an Affine
 * Function", arXiv:2411.09003).
 *
 * <pre>
 *   r      = (mu+ - mu-) / |mu+ - mu-|        (unit direction, difference in means)
 *   mu_ref = mu-                             (reference: mean of the concept-absent prompts)
 *   x'     = x - ((x - mu_ref) . r) r + alpha r
 * </pre>
 * Every edited activation ends with {@code (x' - mu_ref) . r = alpha} exactly, whatever it was
 * before, and its component orthogonal to {@code r} is untouched. {@code alpha = 0} puts it at the
 * reference level (an affine ablation); {@code alpha = |mu+ - mu-|} at the positive mean's level.
 * Dot products are taken in double precision.
 *
 * <p>Units of {@code alpha}: {@link AlphaUnit#RAW} (the default) takes it as written, in the
 * activation's own units; {@link AlphaUnit#GAP} takes it in the paper's units, multiples of
 * {@code |mu+ - mu-|} (the edit uses {@code alpha * |mu+ - mu-|}: 0 is the negative mean's level,
 * 1 the positive mean's), so one value means the same at every layer and model
 * ({@code ace:alpha_unit=gap}).
 */
public final class AffineConceptEditing implements SteeringMethod {
    /** What {@code alpha} is measured in. */
    public enum AlphaUnit {
        /** The activation's own units: the edit sets the projection to {@code alpha}. */
        RAW,
        /** Multiples of {@code |mu+ - mu-|} (the paper's): the edit sets the projection to {@code alpha |mu+ - mu-|}. */
        GAP
    }

    private final HookName hook;
    private final double alpha;
    private final Readout readout;
    private final PositionRule positions;
    private final AlphaUnit unit;

    /** Last-token readout, edits at all positions, {@code alpha} raw. */
    public AffineConceptEditing(HookName hook, double alpha) {
        this(hook, alpha, Readout.last(), PositionRule.all());
    }

    /** Fits at {@code hook} from the rows {@code readout} selects; the edit sets the component along the direction to {@code alpha} (raw) at {@code positions}. */
    public AffineConceptEditing(HookName hook, double alpha, Readout readout, PositionRule positions) {
        this(hook, alpha, readout, positions, AlphaUnit.RAW);
    }

    /** As {@link #AffineConceptEditing(HookName, double, Readout, PositionRule)}, with {@code alpha} in {@code unit}. */
    public AffineConceptEditing(HookName hook, double alpha, Readout readout, PositionRule positions, AlphaUnit unit) {
        if (unit == null) throw new IllegalArgumentException("ACE needs the unit of alpha");
        this.unit = unit;
        if (hook == null || readout == null || positions == null) throw new IllegalArgumentException("ACE needs a hook point, a readout and a position rule");
        if (!Double.isFinite(alpha)) throw new IllegalArgumentException("alpha must be finite, got " + alpha);
        this.hook = hook;
        this.alpha = alpha;
        this.readout = readout;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "ace";
    }

    @Override
    public Edit fit(Model model, ContrastSet data) {
        ConceptDirection concept = ConceptDirection.fit(model, data, hook, readout, name());
        return new Edit(concept, unit == AlphaUnit.GAP ? alpha * concept.gap() : alpha, positions);
    }

    /** The fitted edit {@code x' = x - ((x - mu_ref) . r) r + alpha r}. */
    public static final class Edit implements Intervention {
        private final ConceptDirection concept;
        private final double alpha;
        private final PositionRule positions;
        private final float[] r;
        private final double[] ref;

        /** The edit of {@code concept} to {@code alpha} at {@code positions}. */
        public Edit(ConceptDirection concept, double alpha, PositionRule positions) {
            this.concept = concept;
            this.alpha = alpha;
            this.positions = positions;
            this.r = concept.unit().direction();
            this.ref = concept.reference();
        }

        /** The fitted direction and reference mean. */
        public ConceptDirection concept() {
            return concept;
        }

        @Override
        public Hooks.Handle attach(State state) {
            int d = r.length;
            return state.hooks().add(concept.unit().hook(), (ctx, x) -> {
                if (ctx.width() != d) throw new IllegalArgumentException("ACE direction has " + d + " values, the model's hidden size is " + ctx.width());
                for (int t = 0; t < ctx.tokens(); t++) {
                    if (!positions.includes(ctx, t)) continue;
                    int off = t * d;
                    double p = 0;
                    for (int i = 0; i < d; i++) p += (x[off + i] - ref[i]) * r[i];
                    double move = alpha - p;
                    for (int i = 0; i < d; i++) x[off + i] = (float) (x[off + i] + move * r[i]);
                }
            });
        }

        @Override
        public String describe() {
            return "ace " + concept.unit().hook() + " alpha=" + alpha + " (|mu+ - mu-| = " + String.format("%.4g", concept.gap()) + ") " + positions;
        }
    }
}
