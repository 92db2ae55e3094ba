/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

/**
 * Vector API loops over float arrays for the small dense steps around the weight products
 * (attention over the KV cache, the MLP activation), at 256 bits or the CPU's widest if narrower.
 * Results do not depend on the vector width or on where a range starts: the activations are
 * computed lane by lane with the same float operations as their scalar tails.
 */
public final class Vectors {
    private static final Kernel KERNEL = Kernels.of(Math.min(256, Kernels.maxBits()));

    private Vectors() {}

    /** {@code sum_{i < n} a[ao + i] * b[bo + i]}, accumulated in float32 over a few partial sums added in a fixed order. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return KERNEL.dot(a, ao, b, bo, n);
    }

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}, one rounding per element (fused multiply-add). */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        KERNEL.axpy(alpha, x, xo, y, yo, n);
    }

    /**
     * Exact GELU, {@code x Phi(x) = x (1 + erf(x / sqrt 2)) / 2}, over {@code x[from..to)} in
     * place, with a rational erf accurate to 3.5e-7 absolute (about 5 ulp of float32 near 1).
     */
    public static void geluErf(float[] x, int from, int to) {
        KERNEL.geluErf(x, from, to);
    }

    /**
     * Tanh-approximated GELU, {@code x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2}, over
     * {@code x[from..to)} in place, computed as {@code x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3)))}
     * with an exp accurate to about 2e-7 relative.
     */
    public static void geluTanh(float[] x, int from, int to) {
        KERNEL.geluTanh(x, from, to);
    }

    /**
     * Gemma 2's soft-cap, {@code cap * tanh(x / cap)}, over {@code x[from..to)} in place: tanh
     * from a series near zero and from Cephes' exp beyond, to about 4e-7 relative.
     */
    public static void softcap(float[] x, int from, int to, float cap) {
        KERNEL.softcap(x, from, to, cap);
    }

    /**
     * {@code x[from..to) = softmax(x[from..to))} in place: {@code exp(x_i - max)} to about 2e-7
     * relative (differences below -87 give exp(-87) rather than less), normalised by their sum
     * taken in double, in order.
     */
    public static void softmax(float[] x, int from, int to) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) max = Math.max(max, x[i]);
        KERNEL.expShifted(x, from, to, max);
        double sum = 0;
        for (int i = from; i < to; i++) sum += x[i];
        float inv = (float) (1 / sum);
        for (int i = from; i < to; i++) x[i] *= inv;
    }
}
