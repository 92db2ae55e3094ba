/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

import io.jsteer.transformer.hooks.HookName;

/**
 * A sparse autoencoder over one hook point's activations, as SAELens and Gemma Scope define it:
 * <pre>
 *   pre(x)  = (x - b_dec * applyBDecToInput) W_enc + b_enc           W_enc [d_in][d_sae]
 *   f(x)    = ReLU(pre)                            (standard)
 *           = ReLU(pre) * [pre > threshold]        (JumpReLU, per feature)
 *   x_hat   = f W_dec + b_dec                                        W_dec [d_sae][d_in]
 * </pre>
 * Encoding accumulates in double precision. Instances are immutable.
 */
public final class SparseAutoencoder {
    /** The encoder non-linearity. */
    public enum Activation {
        /** {@code max(0, pre)} (SAELens' standard SAEs). */
        RELU,
        /** {@code pre} where it exceeds the feature's threshold, else 0 (Gemma Scope). */
        JUMPRELU
    }

    private final String source;
    private final Activation activation;
    private final int dIn;
    private final int dSae;
    private final float[] wEnc;
    private final float[] bEnc;
    private final float[] wDec;
    private final float[] bDec;
    private final float[] threshold;
    private final boolean applyBDecToInput;
    private final String hookName;

    /**
     * @param source    where the weights came from, for messages
     * @param threshold per-feature JumpReLU thresholds, null for ReLU
     * @param hookName  the hook the SAE was trained on, as its config names it (null when unknown)
     */
    public SparseAutoencoder(String source, Activation activation, int dIn, int dSae, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec,
                             float[] threshold, boolean applyBDecToInput, String hookName) {
        if (activation == null) throw new IllegalArgumentException(source + ": no activation");
        if (dIn <= 0 || dSae <= 0) throw new IllegalArgumentException(source + ": d_in and d_sae must be > 0, got " + dIn + " and " + dSae);
        check(source, "W_enc", wEnc, (long) dIn * dSae, "[" + dIn + ", " + dSae + "]");
        check(source, "b_enc", bEnc, dSae, "[" + dSae + "]");
        check(source, "W_dec", wDec, (long) dSae * dIn, "[" + dSae + ", " + dIn + "]");
        check(source, "b_dec", bDec, dIn, "[" + dIn + "]");
        if (activation == Activation.JUMPRELU) check(source, "threshold", threshold, dSae, "[" + dSae + "]");
        else if (threshold != null) throw new IllegalArgumentException(source + ": a ReLU SAE has no threshold");
        this.source = source;
        this.activation = activation;
        this.dIn = dIn;
        this.dSae = dSae;
        this.wEnc = wEnc;
        this.bEnc = bEnc;
        this.wDec = wDec;
        this.bDec = bDec;
        this.threshold = threshold;
        this.applyBDecToInput = applyBDecToInput;
        this.hookName = hookName;
    }

    private static void check(String source, String name, float[] values, long size, String shape) {
        if (values == null) throw new IllegalArgumentException(source + ": missing " + name);
        if (values.length != size) throw new IllegalArgumentException(source + ": " + name + " has " + values.length + " values, expected " + shape);
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) throw new IllegalArgumentException(source + ": " + name + " has a non-finite value " + values[i] + " at index " + i);
        }
    }

    /** Width of the activations it encodes. */
    public int dIn() {
        return dIn;
    }

    /** Number of features. */
    public int dSae() {
        return dSae;
    }

    /** The encoder non-linearity. */
    public Activation activation() {
        return activation;
    }

    /** Where the weights came from, for messages. */
    public String source() {
        return source;
    }

    /** The hook the SAE was trained on, as its config names it, or null. */
    public String hookName() {
        return hookName;
    }

    /**
     * That hook as a {@link HookName}, or null when absent or not a residual-stream point
     * {@code blocks.L.hook_X} (an SAE on {@code attn.hook_z} or the MLP's neurons is not steered here).
     */
    public HookName hook() {
        if (hookName == null) return null;
        try {
            HookName h = HookName.parse(hookName);
            return h.point().residual() ? h : null;
        } catch (IllegalArgumentException notABlockHook) {
            return null;
        }
    }

    /** {@code pre(x)_j} for the row of {@code x} starting at {@code off}. */
    public double preActivation(float[] x, int off, int feature) {
        double s = bEnc[feature];
        for (int i = 0; i < dIn; i++) s += input(x, off, i) * wEnc[i * dSae + feature];
        return s;
    }

    /** The feature activation for a pre-activation value. */
    public double activate(double pre, int feature) {
        double relu = Math.max(pre, 0);
        return activation == Activation.JUMPRELU && !(pre > threshold[feature]) ? 0 : relu;
    }

    /** {@code f(x)} for the row of {@code x} starting at {@code off}, {@code [d_sae]}. */
    public double[] encode(float[] x, int off) {
        double[] pre = new double[dSae];
        for (int j = 0; j < dSae; j++) pre[j] = bEnc[j];
        for (int i = 0; i < dIn; i++) {
            double xi = input(x, off, i);
            if (xi == 0) continue;
            int row = i * dSae;
            for (int j = 0; j < dSae; j++) pre[j] += xi * wEnc[row + j];
        }
        for (int j = 0; j < dSae; j++) pre[j] = activate(pre[j], j);
        return pre;
    }

    /** {@code x_hat = f W_dec + b_dec}, {@code [d_in]}. */
    public double[] decode(double[] f) {
        if (f.length != dSae) throw new IllegalArgumentException("decode needs " + dSae + " feature activations, got " + f.length);
        double[] out = new double[dIn];
        for (int i = 0; i < dIn; i++) out[i] = bDec[i];
        for (int j = 0; j < dSae; j++) addDecoderRow(j, f[j], out);
        return out;
    }

    /** {@code out += scale * W_dec[feature]}. */
    public void addDecoderRow(int feature, double scale, double[] out) {
        if (scale == 0) return;
        int row = feature * dIn;
        for (int i = 0; i < dIn; i++) out[i] += scale * wDec[row + i];
    }

    /** Encoder and decoder restricted to {@code features}, for steering that touches only those. */
    public Subset restrict(int[] features) {
        return new Subset(features.clone());
    }

    /**
     * A few features: their encoder columns copied contiguously, so encoding them costs
     * {@code |features| * d_in} per row instead of {@code d_sae * d_in}.
     */
    public final class Subset {
        private final int[] features;
        private final float[] columns;

        private Subset(int[] features) {
            this.features = features;
            this.columns = new float[features.length * dIn];
            for (int s = 0; s < features.length; s++) {
                int j = features[s];
                if (j < 0 || j >= dSae) throw new IllegalArgumentException("feature " + j + " is out of range [0, " + dSae + ")");
                for (int i = 0; i < dIn; i++) columns[s * dIn + i] = wEnc[i * dSae + j];
            }
        }

        /** The selected features' indices. */
        public int[] features() {
            return features.clone();
        }

        /** {@code f(x)} at the selected features, for the row of {@code x} starting at {@code off}. */
        public double[] encode(float[] x, int off) {
            double[] f = new double[features.length];
            for (int s = 0; s < features.length; s++) {
                int j = features[s];
                double pre = bEnc[j];
                for (int i = 0; i < dIn; i++) pre += input(x, off, i) * columns[s * dIn + i];
                f[s] = activate(pre, j);
            }
            return f;
        }

        /** {@code out += sum_s delta[s] * W_dec[features[s]]}. */
        public void addDecoded(double[] delta, double[] out) {
            for (int s = 0; s < features.length; s++) addDecoderRow(features[s], delta[s], out);
        }
    }

    private double input(float[] x, int off, int i) {
        return applyBDecToInput ? (double) x[off + i] - bDec[i] : x[off + i];
    }
}
