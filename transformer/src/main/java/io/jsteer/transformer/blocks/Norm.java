/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.blocks;

/**
 * Normalisation of each row of {@code x[rows][width]}, in place. Statistics are accumulated in
 * double so the result does not depend on the summation order.
 */
public sealed interface Norm permits Norm.LayerNorm, Norm.RmsNorm {
    /** Normalises {@code rows} consecutive rows of width {@code width()} starting at {@code x[offset]}. */
    void apply(float[] x, int offset, int rows);

    /** Normalises {@code rows} rows starting at row 0 of {@code x}. */
    default void apply(float[] x, int rows) {
        apply(x, 0, rows);
    }

    /** The width each row must have. */
    int width();

    /** GPT-NeoX LayerNorm: {@code (x - mean) / sqrt(var + eps) * w + b}. */
    record LayerNorm(float[] weight, float[] bias, float eps) implements Norm {
        @Override
        public void apply(float[] x, int offset, int rows) {
            int d = weight.length;
            for (int r = 0; r < rows; r++) {
                int o = offset + r * d;
                double sum = 0;
                for (int i = 0; i < d; i++) sum += x[o + i];
                float mean = (float) (sum / d);
                double sq = 0;
                for (int i = 0; i < d; i++) {
                    float c = x[o + i] - mean;
                    sq += c * c;
                }
                float inv = (float) (1 / Math.sqrt(sq / d + eps));
                for (int i = 0; i < d; i++) x[o + i] = (x[o + i] - mean) * inv * weight[i] + bias[i];
            }
        }

        @Override
        public int width() {
            return weight.length;
        }
    }

    /**
     * RMSNorm: {@code x / sqrt(mean(x^2) + eps) * (weightOffset + w)}. Llama, Mistral and Qwen store
     * the scale itself (weightOffset 0); Gemma stores it as an offset from one (weightOffset 1).
     */
    record RmsNorm(float[] weight, float eps, float weightOffset) implements Norm {
        /** Gemma's RMSNorm, {@code (1 + w)}. */
        public RmsNorm(float[] weight, float eps) {
            this(weight, eps, 1);
        }

        @Override
        public void apply(float[] x, int offset, int rows) {
            int d = weight.length;
            for (int r = 0; r < rows; r++) {
                int o = offset + r * d;
                double sq = 0;
                for (int i = 0; i < d; i++) sq += (double) x[o + i] * x[o + i];
                float inv = (float) (1 / Math.sqrt(sq / d + eps));
                for (int i = 0; i < d; i++) x[o + i] = x[o + i] * inv * (weightOffset + weight[i]);
            }
        }

        @Override
        public int width() {
            return weight.length;
        }
    }
}
