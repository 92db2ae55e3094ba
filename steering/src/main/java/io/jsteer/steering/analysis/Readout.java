/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.analysis;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.blocks.Norm;
import io.jsteer.transformer.kernels.MatMul;
import io.jsteer.transformer.kernels.Vectors;

/**
 * The model's own way from the residual stream to logits, for streams read anywhere: its final
 * norm, its unembedding on its backend, and Gemma 2's final soft-cap where the checkpoint sets
 * one. These are the steps {@link Model#forward} takes after the last block, with the same
 * kernels, so the last block's output read out here gives the model's logits bit for bit.
 */
final class Readout {
    private Readout() {}

    /**
     * Logits {@code [rows][vocab]} of the residual rows {@code x[rows][d]} (not changed), the
     * rows being one sequence's positions: as many as a prompt's take the prompt order there.
     */
    static float[] logits(Model model, float[] x, int rows) {
        float[] h = x.clone();
        model.weights().finalNorm().apply(h, rows);
        float[] logits = new float[Math.multiplyExact(rows, model.config().vocabSize())];
        model.backend().matmul(model.weights().lmHead(), h, logits, rows, MatMul.promptRows(rows));
        float cap = model.config().finalSoftcap();
        if (cap > 0) Vectors.softcap(logits, 0, logits.length, cap);
        return logits;
    }

    /** Row {@code token} of the unembedding, {@code [d]}. */
    static float[] unembedding(Model model, int token) {
        int d = model.config().hiddenSize();
        float[] row = new float[d];
        model.weights().lmHead().read((long) token * d, row);
        return row;
    }

    /** The final norm's per-coordinate scale as applied: LayerNorm's {@code w}, RMSNorm's {@code offset + w}. */
    static double[] normWeight(Norm norm) {
        return switch (norm) {
            case Norm.LayerNorm ln -> toDouble(ln.weight(), 0);
            case Norm.RmsNorm rms -> toDouble(rms.weight(), rms.weightOffset());
        };
    }

    /** The final norm's bias (zeros for RMSNorm). */
    static double[] normBias(Norm norm) {
        return switch (norm) {
            case Norm.LayerNorm ln -> toDouble(ln.bias(), 0);
            case Norm.RmsNorm rms -> new double[rms.width()];
        };
    }

    private static double[] toDouble(float[] a, float offset) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = (double) (offset + a[i]);
        return out;
    }
}
