/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.iti;

import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A fitted {@link Iti}: {@code z[t, h] += alpha * sigma * theta} at {@code blocks.L.attn.hook_z} for
 * each selected head {@code (L, h)}, at the positions the rule selects. The shift is formed in
 * double precision and rounded to float once.
 */
public final class HeadShifts implements Intervention {
    /**
     * One selected head.
     *
     * @param layer     its block
     * @param head      its index among the block's query heads
     * @param direction the unit mass-mean direction {@code theta}, {@code d_head} values
     * @param std       {@code sigma}, the standard deviation of the activations projected on it
     * @param accuracy  its probe's held-out accuracy, which ranked it
     */
    public record Shift(int layer, int head, float[] direction, double std, double accuracy) {
        /** Copies the direction. */
        public Shift {
            direction = direction.clone();
        }

        /** @return a copy of the direction */
        @Override
        public float[] direction() {
            return direction.clone();
        }
    }

    /**
     * A candidate head and its probe's held-out accuracy.
     *
     * @param layer    its block
     * @param head     its index among the block's query heads
     * @param accuracy the fraction of held-out prompts its probe classified right
     */
    public record Rank(int layer, int head, double accuracy) {}

    private final List<Shift> shifts;
    private final List<Rank> ranking;
    private final double alpha;
    private final PositionRule positions;
    private final int headDim;

    /**
     * @param shifts    the selected heads, in rank order
     * @param ranking   every candidate head, in rank order (the selected ones first)
     * @param alpha     the strength
     * @param positions where to add the shifts
     * @param headDim   the values per head
     */
    public HeadShifts(List<Shift> shifts, List<Rank> ranking, double alpha, PositionRule positions, int headDim) {
        if (shifts == null || shifts.isEmpty()) throw new IllegalArgumentException("no heads to shift");
        if (positions == null) throw new IllegalArgumentException("no position rule");
        for (Shift s : shifts) {
            if (s.direction().length != headDim) throw new IllegalArgumentException("head " + s.head() + " of block " + s.layer() + ": direction of " + s.direction().length + " values, heads have " + headDim);
        }
        this.shifts = List.copyOf(shifts);
        this.ranking = List.copyOf(ranking);
        this.alpha = alpha;
        this.positions = positions;
        this.headDim = headDim;
    }

    /** @return the selected heads, highest held-out accuracy first */
    public List<Shift> shifts() {
        return shifts;
    }

    /** @return every candidate head with its probe's held-out accuracy, best first (ties: lower block, then lower head) */
    public List<Rank> ranking() {
        return ranking;
    }

    /** @return the strength alpha */
    public double alpha() {
        return alpha;
    }

    /** @return where the shifts are added */
    public PositionRule positions() {
        return positions;
    }

    /** Attaches one hook per block with selected heads, at its {@code attn.hook_z}. */
    @Override
    public Hooks.Handle attach(State state) {
        TreeMap<Integer, List<Shift>> byLayer = new TreeMap<>();
        for (Shift s : shifts) byLayer.computeIfAbsent(s.layer(), l -> new ArrayList<>()).add(s);
        List<Hooks.Handle> handles = new ArrayList<>();
        for (var e : byLayer.entrySet()) {
            List<Shift> layerShifts = e.getValue();
            int[] heads = new int[layerShifts.size()];
            float[][] add = new float[heads.length][headDim];
            for (int k = 0; k < heads.length; k++) {
                Shift s = layerShifts.get(k);
                heads[k] = s.head();
                float[] theta = s.direction();
                for (int i = 0; i < headDim; i++) add[k][i] = (float) (alpha * s.std() * theta[i]);
            }
            handles.add(state.hooks().add(new HookName(e.getKey(), HookPoint.Z), (ctx, x) -> {
                if (ctx.headDim() != headDim) throw new IllegalArgumentException("ITI was fitted for heads of " + headDim + " values, " + ctx.name() + " has " + ctx.headDim());
                for (int t = 0; t < ctx.tokens(); t++) {
                    if (!positions.includes(ctx, t)) continue;
                    for (int k = 0; k < heads.length; k++) {
                        int off = t * ctx.width() + heads[k] * headDim;
                        for (int i = 0; i < headDim; i++) x[off + i] += add[k][i];
                    }
                }
            }));
        }
        return () -> handles.forEach(Hooks.Handle::close);
    }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder("ITI " + shifts.size() + " heads x" + alpha + " " + positions + ":");
        for (Shift s : shifts) b.append(String.format(" %d.%d(acc %.2f, std %.3g)", s.layer(), s.head(), s.accuracy(), s.std()));
        return b.toString();
    }
}
