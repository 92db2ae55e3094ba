package io.jsteer.transformer.blocks;

import io.jsteer.weights.Activation;

/** Element-wise non-linearities of the MLP. */
public final class Activations {
    private Activations() {}

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    /** Applies {@code act} to {@code x[0..n)} in place. */
    public static void apply(Activation act, float[] x, int n) {
        switch (act) {
            case GELU_ERF -> {
                for (int i = 0; i < n; i++) x[i] = (float) (0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2))));
            }
            case GELU_TANH -> {
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = (float) (0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))));
                }
            }
        }
    }

    /**
     * The error function, to about 1e-15 relative error: Taylor series near zero, and the
     * continued fraction of erfc beyond, both in double (the JDK has no erf).
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return Math.copySign(sum * 2 / Math.sqrt(Math.PI), x);
        }
        if (ax > 6) return Math.copySign(1, x);
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) , evaluated bottom-up
        double f = ax;
        for (int k = 60; k >= 1; k--) f = ax + (k / 2.0) / f;
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.copySign(1 - erfc, x);
    }
}
