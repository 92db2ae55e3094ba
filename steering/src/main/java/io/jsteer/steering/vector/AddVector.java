/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.Hooks;

/**
 * Activation addition: {@code x[t] += coefficient * v} at the vector's hook point for every
 * selected position {@code t}. Attaching several to one state adds them all (hooks run in attach
 * order, each on the previous one's output), so vectors compose by addition.
 */
public final class AddVector implements Intervention {
    private final SteeringVector vector;
    private final double coefficient;
    private final PositionRule positions;
    private final float[] scaled;

    /** Adds {@code coefficient * vector} at the vector's hook point, at the positions {@code positions} selects. */
    public AddVector(SteeringVector vector, double coefficient, PositionRule positions) {
        if (vector == null) throw new IllegalArgumentException("no steering vector");
        if (positions == null) throw new IllegalArgumentException("no position rule");
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        vector.requireDirection();
        this.vector = vector;
        this.coefficient = coefficient;
        this.positions = positions;
        float[] v = vector.direction();
        // rounded to float once, as a float32 framework forms coefficient * vector before adding it
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (coefficient * v[i]);
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException("coefficient " + coefficient + " x the vector for " + vector.hook() + " overflows float32 at index " + i
                        + " (the vector's norm is " + String.format("%.4g", vector.norm()) + ")");
            }
        }
        this.scaled = v;
    }

    /** The unscaled vector. */
    public SteeringVector vector() {
        return vector;
    }

    /** The scale of the vector. */
    public double coefficient() {
        return coefficient;
    }

    /** Where the vector is added. */
    public PositionRule positions() {
        return positions;
    }

    @Override
    public Hooks.Handle attach(State state) {
        int d = scaled.length;
        return state.hooks().add(vector.hook(), (ctx, x) -> {
            if (ctx.width() != d) {
                throw new IllegalArgumentException("steering vector for " + vector.hook() + " has " + d + " values, the model's hidden size is " + ctx.width());
            }
            addAt(ctx, x, scaled, positions);
        });
    }

    /**
     * Adds {@code scaled} to each row of {@code x} (a hook's {@code [tokens][width]} array) whose
     * position {@code positions} includes; the caller has checked that the widths agree.
     */
    public static void addAt(HookContext ctx, float[] x, float[] scaled, PositionRule positions) {
        int d = scaled.length;
        for (int t = 0; t < ctx.tokens(); t++) {
            if (!positions.includes(ctx, t)) continue;
            int off = t * d;
            for (int i = 0; i < d; i++) x[off + i] += scaled[i];
        }
    }

    @Override
    public String describe() {
        return vector.method() + " " + vector.hook() + " x" + coefficient + " " + positions;
    }
}
