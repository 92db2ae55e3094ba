/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.tests.Fixtures;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.Tensor;

/**
 * The final norm and unembedding of a fixture checkpoint, written here from the Hugging Face
 * modeling code (GPT-NeoX's {@code final_layer_norm} + {@code embed_out}; Llama/Qwen's {@code
 * norm} + {@code lm_head}; Gemma's {@code norm} with {@code 1 + w} + tied embedding, and Gemma 2's
 * {@code final_logit_softcapping}) in double precision, sharing no code with jsteer's forward pass
 * or its analysis classes: tensors come straight from {@code model.safetensors} by their HF names.
 */
final class HfReadout {
    final int d, vocab;
    final boolean layerNorm;
    final double eps, softcap;
    final double[] weight, bias;
    final double[][] unembed;

    HfReadout(String fixture) {
        JsonNode config = Fixtures.json(fixture, "config.json");
        String type = config.get("model_type").asText();
        d = config.get("hidden_size").asInt();
        vocab = config.get("vocab_size").asInt();
        layerNorm = type.equals("gpt_neox");
        eps = layerNorm ? config.get("layer_norm_eps").asDouble() : config.get("rms_norm_eps").asDouble();
        softcap = config.path("final_logit_softcapping").isNumber() ? config.get("final_logit_softcapping").asDouble() : 0;
        boolean gemma = type.startsWith("gemma");
        boolean tied = config.path("tie_word_embeddings").asBoolean(gemma);
        try (SafeTensorsFile st = SafeTensorsFile.open(Fixtures.dir(fixture).resolve("model.safetensors"))) {
            String norm = layerNorm ? "gpt_neox.final_layer_norm" : "model.norm";
            weight = doubles(st.tensor(norm + ".weight"));
            if (gemma) for (int i = 0; i < d; i++) weight[i] += 1;
            bias = layerNorm ? doubles(st.tensor(norm + ".bias")) : new double[d];
            String head = layerNorm ? "embed_out.weight" : tied ? "model.embed_tokens.weight" : "lm_head.weight";
            double[] flat = doubles(st.tensor(head));
            unembed = new double[vocab][d];
            for (int v = 0; v < vocab; v++) System.arraycopy(flat, v * d, unembed[v], 0, d);
        }
    }

    /** The final norm of one residual row. */
    double[] norm(float[] x, int row) {
        double mean = center(x, row);
        double inv = 1 / scale(x, row);
        double[] h = new double[d];
        for (int i = 0; i < d; i++) h[i] = (x[row * d + i] - mean) * inv * weight[i] + bias[i];
        return h;
    }

    /** What the final norm subtracts from one residual row: its mean for LayerNorm, 0 for RMSNorm. */
    double center(float[] x, int row) {
        if (!layerNorm) return 0;
        double mean = 0;
        for (int i = 0; i < d; i++) mean += x[row * d + i];
        return mean / d;
    }

    /** What the final norm divides one residual row by: {@code sqrt(mean((x - center)^2) + eps)}. */
    double scale(float[] x, int row) {
        double mean = center(x, row), sq = 0;
        for (int i = 0; i < d; i++) sq += (x[row * d + i] - mean) * (x[row * d + i] - mean);
        return Math.sqrt(sq / d + eps);
    }

    /** The direction a normed row is read along for logit(a) - logit(b): {@code weight * (U[a] - U[b])}. */
    double[] direction(int a, int b) {
        double[] u = new double[d];
        for (int i = 0; i < d; i++) u[i] = weight[i] * (unembed[a][i] - unembed[b][i]);
        return u;
    }

    /** Logits of one residual row, soft-capped where the config says. */
    double[] logits(float[] x, int row) {
        double[] h = norm(x, row), out = new double[vocab];
        for (int v = 0; v < vocab; v++) {
            double s = 0;
            for (int i = 0; i < d; i++) s += h[i] * unembed[v][i];
            out[v] = softcap > 0 ? softcap * Math.tanh(s / softcap) : s;
        }
        return out;
    }

    private static double[] doubles(Tensor t) {
        double[] out = new double[Math.toIntExact(t.size())];
        for (int i = 0; i < out.length; i++) out[i] = t.get(i);
        return out;
    }
}
