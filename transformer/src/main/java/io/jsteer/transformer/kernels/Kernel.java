/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import io.jsteer.weights.DType;
import java.lang.foreign.MemorySegment;

/**
 * The loops of {@link MatMul} and {@link Vectors} at one vector width, implemented by
 * {@link VectorKernel}. A product is handed over a whole chunk of rows at a time, so the inner
 * loops call only into their own class: one call site never sees two widths, which would stop the
 * JIT from inlining the vector code (the product then runs at half speed or worse).
 */
interface Kernel {
    /** Vector bit width of this kernel (128, 256 or 512). */
    int bits();

    /**
     * {@code x[tokens][cols]} laid out for BF16 products: within each token's row, each block of
     * two vectors' worth of columns holds its even columns, then its odd ones (a 32-bit load of
     * BF16 weights holds one of each); the columns past the last full block stay in place.
     */
    float[] bf16Input(float[] x, int cols, int tokens);

    /**
     * {@code out[r] = sum_c W[r][c] * x[c]} for rows {@code [r0, r1)} of {@code W[rows][cols]}
     * stored as {@code dtype} at the start of {@code w}; for BF16, {@code x} as laid out by
     * {@link #bf16Input}. Rows are read two at a time when {@code sequential} (x stays in L1
     * beside them), else four at a time sharing each load of x. Either way each result is
     * summed in the order that {@link MatMul} documents, bit for bit that of {@link #matmul}.
     */
    void matvec(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int r0, int r1, boolean sequential);

    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens} and rows
     * {@code [r0, r1)}: x is {@code [tokens][cols]} in plain column order, out
     * {@code [tokens][rows]}; each result summed in the order of {@link #matvec}. Each thread
     * lays out the tokens once per {@code product} (an object identifying one product, shared by
     * the calls for its chunks of rows), not once per chunk.
     */
    void matmul(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1, Object product);

    /**
     * As {@link #matmul} in the prompt order: each {@code out[t][r]} is the sequential sum
     * {@code acc = fma(W[r][c], x[t][c], acc)} over c from 0, of the weights as widened (or
     * decoded) to float32.
     */
    void matmulPrompt(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1, Object product);

    /** Exact GELU, {@code x Phi(x)}, over {@code x[from..to)} in place (see {@link Vectors#geluErf}). */
    void geluErf(float[] x, int from, int to);

    /** Tanh-approximated GELU over {@code x[from..to)} in place (see {@link Vectors#geluTanh}). */
    void geluTanh(float[] x, int from, int to);

    /** {@code x[i] = cap * tanh(x[i] / cap)} over {@code x[from..to)} in place (see {@link Vectors#softcap}). */
    void softcap(float[] x, int from, int to, float cap);

    /** {@code x[i] = exp(x[i] - shift)} for {@code i} in {@code [from, to)} (see {@link Vectors#softmax}). */
    void expShifted(float[] x, int from, int to, float shift);

    /** {@code sum_{i < n} a[ao + i] * b[bo + i]}; {@code n} may be any length. */
    float dot(float[] a, int ao, float[] b, int bo, int n);

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}; {@code n} may be any length. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);
}
