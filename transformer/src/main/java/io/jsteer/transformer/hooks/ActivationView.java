/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

import java.nio.FloatBuffer;

/**
 * The activations a hook is shown, with their shape: {@link #rows()} rows of {@link #width()}
 * values, row {@code r} being the token at absolute position {@link #position(int) position(r)}.
 * Reads and writes go straight to the activations, so a change flows into the rest of the pass.
 * Attach a hook that takes one with {@link Hooks#add(HookName, java.util.function.Consumer)}.
 *
 * <pre>{@code
 * float[] v = ...;                                   // a direction of the model's width
 * state.hooks().add(new HookName(3, HookPoint.RESID_POST), a -> {
 *     for (int r = 0; r < a.rows(); r++) {
 *         System.out.println("position " + a.position(r) + ": " + a.dot(r, v));
 *         a.add(r, v, 2.0);                          // steer this row by 2 v
 *     }
 * });
 * }</pre>
 *
 * A view is valid only during the hook call that received it.
 */
public final class ActivationView {
    private final HookContext ctx;
    private final float[] x;

    /**
     * A view of {@code x}, {@code [ctx.tokens()][ctx.width()]} row-major.
     *
     * @param ctx the hook point, positions and shape
     * @param x   the activations
     */
    public ActivationView(HookContext ctx, float[] x) {
        if (ctx.name().point().layout() == HookPoint.Layout.PATTERN) {
            throw new IllegalArgumentException(ctx.name() + " is [head][query][key], not a row per token: read it with a Hook (ctx, x)");
        }
        if (x.length < (long) ctx.tokens() * ctx.width()) {
            throw new IllegalArgumentException("activations of " + x.length + " values are fewer than " + ctx.tokens() + " rows x " + ctx.width());
        }
        this.ctx = ctx;
        this.x = x;
    }

    /** @return the hook point, e.g. {@code blocks.3.hook_resid_post} */
    public HookName name() {
        return ctx.name();
    }

    /** @return the number of rows: the tokens this forward call appends to the sequence */
    public int rows() {
        return ctx.tokens();
    }

    /** @return the values per row (the model's hidden size at the residual stream, {@code heads * d_head} at q/k/v/z, {@code d_mlp} in the MLP) */
    public int width() {
        return ctx.width();
    }

    /** @return the heads a row holds at a per-head point ({@code attn.hook_q/k/v/rot_q/rot_k/z}), else 1 */
    public int heads() {
        return ctx.heads();
    }

    /** @return the values per head at a per-head point ({@code width() / heads()}) */
    public int headDim() {
        return ctx.headDim();
    }

    /**
     * @param row a row, {@code 0 <= row < rows()}
     * @return the absolute position of the row's token in its sequence (0 is the first prompt token)
     */
    public int position(int row) {
        checkRow(row);
        return ctx.position(row);
    }

    /** @return the number of prompt tokens of the sequence (positions below it are the prompt) */
    public int promptLength() {
        return ctx.promptLength();
    }

    /** @return the hook point, positions and shape as one record */
    public HookContext context() {
        return ctx;
    }

    /**
     * @param row a row
     * @param i   a coordinate, {@code 0 <= i < width()}
     * @return the value at {@code [row][i]}
     */
    public float get(int row, int i) {
        return x[index(row, i)];
    }

    /**
     * Sets the value at {@code [row][i]}.
     *
     * @param row   a row
     * @param i     a coordinate
     * @param value the new value
     */
    public void set(int row, int i, float value) {
        x[index(row, i)] = value;
    }

    /**
     * A view of one row: reading and writing it reads and writes the activations.
     *
     * @param row a row
     * @return a buffer of {@code width()} values at position 0, sharing the activations
     */
    public FloatBuffer row(int row) {
        checkRow(row);
        return FloatBuffer.wrap(x, row * ctx.width(), ctx.width()).slice();
    }

    /**
     * @param row a row
     * @return a copy of the row's values
     */
    public float[] copyRow(int row) {
        checkRow(row);
        float[] out = new float[ctx.width()];
        System.arraycopy(x, row * ctx.width(), out, 0, out.length);
        return out;
    }

    /**
     * Adds {@code scale * v} to the row (rounding {@code scale * v[i]} to float before adding, as
     * a float32 framework does).
     *
     * @param row   a row
     * @param v     a vector of {@code width()} values
     * @param scale its coefficient
     */
    public void add(int row, float[] v, double scale) {
        checkRow(row);
        checkWidth(v);
        int off = row * ctx.width();
        for (int i = 0; i < v.length; i++) x[off + i] += (float) (scale * v[i]);
    }

    /**
     * The dot product of the row with {@code v}, summed in double precision.
     *
     * @param row a row
     * @param v   a vector of {@code width()} values
     * @return {@code sum_i x[row][i] * v[i]}
     */
    public double dot(int row, float[] v) {
        checkRow(row);
        checkWidth(v);
        int off = row * ctx.width();
        double s = 0;
        for (int i = 0; i < v.length; i++) s += (double) x[off + i] * v[i];
        return s;
    }

    /**
     * The activations themselves, for code that walks them in bulk: row {@code r} is
     * {@code array()[r * width() .. (r + 1) * width())}.
     *
     * @return the backing array (not a copy)
     */
    public float[] array() {
        return x;
    }

    private int index(int row, int i) {
        checkRow(row);
        if (i < 0 || i >= ctx.width()) throw new IndexOutOfBoundsException("coordinate " + i + " is outside 0.." + (ctx.width() - 1) + " of " + ctx.name());
        return row * ctx.width() + i;
    }

    private void checkRow(int row) {
        if (row < 0 || row >= ctx.tokens()) throw new IndexOutOfBoundsException("row " + row + " is outside 0.." + (ctx.tokens() - 1) + " of " + ctx.name());
    }

    private void checkWidth(float[] v) {
        if (v.length != ctx.width()) throw new IllegalArgumentException("vector of " + v.length + " values at " + ctx.name() + ", whose width is " + ctx.width());
    }

    @Override
    public String toString() {
        return ctx.name() + " [" + ctx.tokens() + " x " + ctx.width() + "] at positions " + ctx.startPos() + ".." + (ctx.startPos() + ctx.tokens() - 1);
    }
}
