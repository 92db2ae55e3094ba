package io.jsteer.transformer.kernels;

/**
 * Vector API loops over float arrays for the small dense steps around the weight products
 * (attention over the KV cache), at 256 bits or the CPU's widest if narrower.
 */
public final class Vectors {
    private static final Kernel KERNEL = Kernels.of(Math.min(256, Kernels.maxBits()));

    private Vectors() {}

    /** {@code sum_{i < n} a[ao + i] * b[bo + i]}, accumulated in float32 over a few partial sums. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return KERNEL.dot(a, ao, b, bo, n);
    }

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}. */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        KERNEL.axpy(alpha, x, xo, y, yo, n);
    }
}
