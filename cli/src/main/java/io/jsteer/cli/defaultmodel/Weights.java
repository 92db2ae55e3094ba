/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsWriter;
import java.util.Arrays;
import java.util.List;

/**
 * Computes the default model's GPT-NeoX tensors from corpus statistics (see {@link DefaultModel}
 * for the construction) and adds them to a safetensors writer.
 */
final class Weights {
    private final Design design;
    private final ResidualBasis basis;
    private final int d;
    /** Corpus token ids, ascending, and their embedding / unembedding rows. */
    private final int[] corpusIds;
    private final float[][] embedRows, unembedRows;
    private final float[] unknownEmbed, unknownUnembed;
    /** Norm of every embedding, and of the stream after the previous-token head. */
    private final double embedNorm, streamNorm;
    private final double[] topicSign;

    Weights(Design design, Tokenizer tokenizer) {
        this.design = design;
        this.d = design.hidden();
        this.basis = new ResidualBasis(d, design.seed());
        List<int[]> paragraphs = Corpus.paragraphs(tokenizer);
        NgramStatistics stats = new NgramStatistics(paragraphs);
        int n = stats.size();
        corpusIds = stats.vocab();

        double[] bias = new double[n];
        LowRank next = LowRank.of(stats.centredLogConditional(1, design.prior(), bias), plusOne(stats.contextCounts(1)), design.bigramRank());
        LowRank skip = LowRank.of(stats.centredLogConditional(2, design.prior(), new double[n]), plusOne(stats.contextCounts(2)), design.skipRank());

        topicSign = new double[n];
        for (int i = 0; i < n; i++) topicSign[i] = Topics.sign(tokenizer, corpusIds[i]);

        // Embedding: [bigram left | gap-2 left + its carrier | topic | carrier], all of norm embedNorm.
        double sourceNorm = 0, maxNorm = 0;
        for (int i = 0; i < n; i++) sourceNorm = Math.max(sourceNorm, norm(skip.left()[i]));
        for (int i = 0; i < n; i++) {
            double topic = design.topicEmbed() * topicSign[i];
            double sq = sq(next.left()[i]) + sourceNorm * sourceNorm + topic * topic;
            maxNorm = Math.max(maxNorm, Math.sqrt(sq));
        }
        embedNorm = maxNorm;
        streamNorm = Math.sqrt(embedNorm * embedNorm + sourceNorm * sourceNorm);

        embedRows = new float[n][];
        for (int i = 0; i < n; i++) {
            double[] c = new double[d];
            for (int k = 0; k < design.bigramRank(); k++) c[design.bigramSlot(k)] = next.left()[i][k];
            for (int k = 0; k < design.skipRank(); k++) c[design.sourceSlot(k)] = skip.left()[i][k];
            c[Design.SOURCE_CARRIER_SLOT] = Math.sqrt(Math.max(0, sourceNorm * sourceNorm - sq(skip.left()[i])));
            c[Design.TOPIC_IN_SLOT] = design.topicEmbed() * topicSign[i];
            c[Design.CARRIER_SLOT] = Math.sqrt(Math.max(0, embedNorm * embedNorm - sq(c)));
            embedRows[i] = basis.combine(c);
        }
        double[] unknown = new double[d];
        unknown[Design.SOURCE_CARRIER_SLOT] = sourceNorm;
        unknown[Design.CARRIER_SLOT] = Math.sqrt(embedNorm * embedNorm - sourceNorm * sourceNorm);
        unknownEmbed = basis.combine(unknown);

        // Unembedding: LayerNorm divides the stream by streamNorm / sqrt(d); the rows undo that scale.
        double undo = streamNorm / Math.sqrt(d);
        double minBias = Arrays.stream(bias).min().orElseThrow();
        unembedRows = new float[n][];
        for (int j = 0; j < n; j++) {
            double[] c = new double[d];
            for (int k = 0; k < design.bigramRank(); k++) c[design.bigramSlot(k)] = next.right()[j][k] * undo;
            for (int k = 0; k < design.skipRank(); k++) c[design.prevSlot(k)] = design.skipWeight() * skip.right()[j][k] * undo;
            c[Design.TOPIC_SLOT] = design.topicLogit() * topicSign[j] * undo;
            c[Design.BIAS_SLOT] = bias[j];
            unembedRows[j] = basis.combine(c);
        }
        double[] never = new double[d];
        never[Design.BIAS_SLOT] = minBias + design.unknownBias();
        unknownUnembed = basis.combine(never);
    }

    /** The planted topic direction u (unit norm, float32). */
    float[] topicDirection() {
        return basis.combine(unit(Design.TOPIC_SLOT));
    }

    /** Adds every tensor of the checkpoint to {@code w}. */
    void addTo(SafeTensorsWriter w) {
        int V = design.vocabSize();
        w.add("gpt_neox.embed_in.weight", DType.F32, new long[] {V, d}, (from, out) -> rows(from, out, embedRows, unknownEmbed));
        w.add("embed_out.weight", DType.F32, new long[] {V, d}, (from, out) -> rows(from, out, unembedRows, unknownUnembed));
        w.add("gpt_neox.final_layer_norm.weight", ones(d), DType.F32, d);
        w.add("gpt_neox.final_layer_norm.bias", basis.combine(unit(Design.BIAS_SLOT)), DType.F32, d);
        for (int l = 0; l < design.layers(); l++) {
            String p = "gpt_neox.layers." + l + ".";
            float[] qkv = new float[3 * d * d], qkvBias = new float[3 * d], dense = new float[d * d];
            if (l == design.prevLayer()) previousTokenHead(qkv, qkvBias, dense);
            if (l == design.topicLayer()) topicHead(qkv, dense);
            w.add(p + "input_layernorm.weight", ones(d), DType.F32, d);
            w.add(p + "input_layernorm.bias", new float[d], DType.F32, d);
            w.add(p + "post_attention_layernorm.weight", ones(d), DType.F32, d);
            w.add(p + "post_attention_layernorm.bias", new float[d], DType.F32, d);
            w.add(p + "attention.query_key_value.weight", qkv, DType.F32, 3L * d, d);
            w.add(p + "attention.query_key_value.bias", qkvBias, DType.F32, 3L * d);
            w.add(p + "attention.dense.weight", dense, DType.F32, d, d);
            w.add(p + "attention.dense.bias", new float[d], DType.F32, d);
            int ff = 4 * d;
            w.add(p + "mlp.dense_h_to_4h.weight", DType.F32, new long[] {ff, d}, (from, out) -> Arrays.fill(out, 0));
            w.add(p + "mlp.dense_h_to_4h.bias", new float[ff], DType.F32, ff);
            w.add(p + "mlp.dense_4h_to_h.weight", DType.F32, new long[] {d, ff}, (from, out) -> Arrays.fill(out, 0));
            w.add(p + "mlp.dense_4h_to_h.bias", new float[d], DType.F32, d);
        }
    }

    /**
     * Head 0 attends to the previous position and copies its gap-2 source features (and their
     * carrier) into the prev slots. Queries and keys are constant (biases only), so the score
     * depends on the distance alone through RoPE: with {@code k = R(theta) q} for the rotation of
     * one position, {@code q_t . k_s = sum_i |q_i|^2 cos((s + 1 - t) theta_i)}, largest at
     * {@code s = t - 1}. {@link PreviousTokenHead} picks the amplitude that makes it near one-hot.
     */
    private void previousTokenHead(float[] qkv, float[] qkvBias, float[] dense) {
        int hd = design.headDim(), rot = design.rotaryDims();
        float[] q = PreviousTokenHead.query(design);
        float[] k = q.clone();
        new Rope(rot, design.ropeBase(), 1).apply(k, 0, 1, hd, 1);
        System.arraycopy(q, 0, qkvBias, 0, hd);
        System.arraycopy(k, 0, qkvBias, hd, hd);
        // LayerNorm divides the stream (norm embedNorm here) by embedNorm / sqrt(d): scale back.
        double scale = embedNorm / Math.sqrt(d);
        for (int k2 = 0; k2 <= design.skipRank(); k2++) {
            int from = k2 < design.skipRank() ? design.sourceSlot(k2) : Design.SOURCE_CARRIER_SLOT;
            int to = k2 < design.skipRank() ? design.prevSlot(k2) : Design.PREV_CARRIER_SLOT;
            setRow(qkv, 2 * hd + k2, basis.vector(from), scale);
            setColumn(dense, k2, basis.vector(to));
        }
    }

    /**
     * Head 0 attends uniformly to every position so far (zero queries and keys) and writes
     * {@code topicGain} times the mean topic feature of the context along u.
     */
    private void topicHead(float[] qkv, float[] dense) {
        int hd = design.headDim();
        setRow(qkv, 2 * hd, basis.vector(Design.TOPIC_IN_SLOT), streamNorm / Math.sqrt(d));
        double[] u = basis.vector(Design.TOPIC_SLOT);
        for (int i = 0; i < d; i++) u[i] *= design.topicGain();
        setColumn(dense, 0, u);
    }

    private void setRow(float[] m, int row, double[] v, double scale) {
        for (int i = 0; i < d; i++) m[row * d + i] = (float) (v[i] * scale);
    }

    private void setColumn(float[] m, int col, double[] v) {
        for (int i = 0; i < d; i++) m[i * d + col] = (float) v[i];
    }

    /** Fills {@code out} with elements {@code from..} of a {@code [vocab][d]} matrix given by corpus rows. */
    private void rows(long from, float[] out, float[][] corpusRows, float[] unknownRow) {
        int filled = 0;
        while (filled < out.length) {
            long at = from + filled;
            int token = (int) (at / d), col = (int) (at % d);
            int i = Arrays.binarySearch(corpusIds, token);
            float[] row = i >= 0 ? corpusRows[i] : unknownRow;
            int len = Math.min(d - col, out.length - filled);
            System.arraycopy(row, col, out, filled, len);
            filled += len;
        }
    }

    private double[] unit(int slot) {
        double[] c = new double[d];
        c[slot] = 1;
        return c;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1);
        return a;
    }

    private static double[] plusOne(double[] counts) {
        double[] w = counts.clone();
        for (int i = 0; i < w.length; i++) w[i] += 1;
        return w;
    }

    private static double sq(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return s;
    }

    private static double norm(double[] v) {
        return Math.sqrt(sq(v));
    }
}
