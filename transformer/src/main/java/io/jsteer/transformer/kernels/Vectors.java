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

    /**
     * Dot products of one vector with rows of a matrix stored {@code stride} apart:
     * {@code scores[j] = sum_{i < n} q[qo + i] * k[ko + j stride + i]} for {@code j} in {@code [from, to)}.
     */
    public static void dots(float[] q, int qo, float[] k, int ko, int stride, int from, int to, int n, float[] scores) {
        KERNEL.dots(q, qo, k, ko, stride, from, to, n, scores);
    }

    /**
     * A weighted sum of rows stored {@code stride} apart, written over {@code out[oo..oo+n)}:
     * {@code out[oo + i] = sum_{j in [from, to)} p[j] * v[vo + j stride + i]}, each element added
     * over j in order with one rounding per step, so the result does
     * not depend on the vector width. A block of the output stays in registers while the rows pass.
     */
    public static void weightedSum(float[] p, int from, int to, float[] v, int vo, int stride, int n, float[] out, int oo) {
        KERNEL.weightedSum(p, from, to, v, vo, stride, n, out, oo);
    }
}
