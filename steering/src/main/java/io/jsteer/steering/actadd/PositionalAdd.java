/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.actadd;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;

/**
 * ActAdd's original injection: {@code h[t] += c * M[t]} for prompt positions {@code t < n}, where
 * {@code M} is the {@code [n][d]} activation difference of the prompt pair. Generated tokens are
 * never touched (the paper's hook returns early on single-token decode steps), and a prompt
 * shorter than {@code n} is refused as in the paper's implementation.
 */
public final class PositionalAdd implements Intervention {
    private final HookName hook;
    private final float[] scaled;
    private final int rows;
    private final int width;
    private final double coefficient;

    /** {@code matrix} is {@code [n][width]} row-major and unscaled. */
    public PositionalAdd(HookName hook, float[] matrix, int width, double coefficient) {
        if (hook == null || matrix == null || matrix.length == 0) throw new IllegalArgumentException("positional injection needs a hook point and a non-empty matrix");
        if (width <= 0 || matrix.length % width != 0) throw new IllegalArgumentException(matrix.length + " values are not whole rows of width " + width);
        this.hook = hook;
        this.width = width;
        this.rows = matrix.length / width;
        this.coefficient = coefficient;
        this.scaled = new float[matrix.length];
        for (int i = 0; i < matrix.length; i++) {
            scaled[i] = (float) (coefficient * matrix[i]);
            if (!Float.isFinite(scaled[i])) throw new IllegalArgumentException("steering matrix has a non-finite value at row " + i / width + ", column " + i % width);
        }
    }

    /** Number of rows {@code n} of the matrix. */
    public int rows() {
        return rows;
    }

    @Override
    public Hooks.Handle attach(State state) {
        return state.hooks().add(hook, (ctx, x) -> {
            if (ctx.width() != width) throw new IllegalArgumentException("steering matrix rows have " + width + " values, the model's hidden size is " + ctx.width());
            if (ctx.promptLength() < rows) {
                throw new IllegalArgumentException("ActAdd positional injection: the prompt has " + ctx.promptLength()
                        + " tokens, fewer than the " + rows + " rows of the steering matrix");
            }
            for (int t = 0; t < ctx.tokens(); t++) {
                int pos = ctx.position(t);
                if (pos >= rows || pos >= ctx.promptLength()) continue;
                int off = t * width, src = pos * width;
                for (int i = 0; i < width; i++) x[off + i] += scaled[src + i];
            }
        });
    }

    @Override
    public String describe() {
        return "actadd positional " + hook + " x" + coefficient + " prompt positions [0, " + rows + ")";
    }
}
