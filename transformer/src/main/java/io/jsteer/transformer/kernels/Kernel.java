package io.jsteer.transformer.kernels;

import io.jsteer.weights.DType;
import java.lang.foreign.MemorySegment;

/**
 * The inner loops of {@link MatMul} at one vector width: products of a few weight rows with a few
 * activation rows over a column range whose length is a multiple of {@link #lanes()}. Row
 * addresses are byte offsets into the weight segment, so the caller can repeat a row to pad a
 * block at the edge of the matrix. Implemented by {@link VectorKernel}.
 */
interface Kernel {
    /** Vector bit width of this kernel (128, 256 or 512). */
    int bits();

    /** float32 lanes per vector: column counts passed in must be multiples of this. */
    int lanes();

    /**
     * {@code sum_{c < n} W[c] * x[xo + c]} for one row stored as {@code dtype} at byte offset
     * {@code w0} of {@code w}, read front to back with several accumulators. Faster than
     * {@link #dot4x1} while x is small enough to stay in the L1 cache next to the stream.
     */
    float rowDot(DType dtype, MemorySegment w, long w0, float[] x, int xo, int n);

    /**
     * {@code acc[i] = sum_{c < n} W_i[c] * x[xo + c]} for four rows stored as {@code dtype} at byte
     * offsets {@code w0..w3} of {@code w}, widened to float32 in registers.
     */
    void dot4x1(DType dtype, MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int xo, int n, float[] acc);

    /**
     * {@code acc[4 i + j] = sum_{c < n} W_i[c] * x[xj + c]} for four rows stored as {@code dtype} at
     * byte offsets {@code w0..w3} and four activation rows at {@code x0..x3}: each weight vector
     * loaded serves four tokens.
     */
    void dot4x4(DType dtype, MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int x0, int x1, int x2, int x3, int n, float[] acc);


    /** {@code sum_{i < n} a[ao + i] * b[bo + i]}; {@code n} may be any length. */
    float dot(float[] a, int ao, float[] b, int bo, int n);

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}; {@code n} may be any length. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);
}
