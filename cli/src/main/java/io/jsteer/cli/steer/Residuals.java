/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

/**
 * Per-layer statistics of the residual stream of one prompt: norms, and the scalar projection on a
 * direction {@code v} ({@code x . v / |v|}, in the units of the stream).
 */
public final class Residuals {
    private Residuals() {}

    /** One row per block: {@code resid_post} norms and projections (NaN when there is no direction). */
    public record Layer(int layer, double meanNorm, double lastNorm, double lastProjection, double meanProjection, double lastCosine) {}

    public static Layer[] of(Forward.Result r, float[] direction) {
        int d = r.hidden(), T = r.tokens();
        double vNorm = direction == null ? Double.NaN : norm(direction, 0, d);
        Layer[] out = new Layer[r.blocks().length];
        for (int l = 0; l < out.length; l++) {
            float[] x = r.blocks()[l];
            double sumNorm = 0, sumProj = 0, lastNorm = 0, lastProj = Double.NaN;
            for (int t = 0; t < T; t++) {
                double n = norm(x, t * d, d);
                sumNorm += n;
                if (t == T - 1) lastNorm = n;
                if (direction != null) {
                    double p = dot(x, t * d, direction) / vNorm;
                    sumProj += p;
                    if (t == T - 1) lastProj = p;
                }
            }
            double meanProj = direction == null ? Double.NaN : sumProj / T;
            out[l] = new Layer(l, sumNorm / T, lastNorm, lastProj, meanProj, direction == null ? Double.NaN : lastProj / lastNorm);
        }
        return out;
    }

    private static double norm(float[] a, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[off + i] * a[off + i];
        return Math.sqrt(s);
    }

    private static double dot(float[] a, int off, float[] v) {
        double s = 0;
        for (int i = 0; i < v.length; i++) s += (double) a[off + i] * v[i];
        return s;
    }
}
