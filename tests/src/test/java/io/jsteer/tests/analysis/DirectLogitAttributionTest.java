/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.analysis.DirectLogitAttribution;
import io.jsteer.steering.analysis.DirectLogitAttribution.Attribution;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Direct logit attribution on the fixtures: the terms add up to the logit difference, and each
 * term is what {@link HfReadout}'s weights give HF's recorded branch outputs, scaled by the final
 * norm's scale of HF's recorded final stream (TransformerLens' {@code apply_ln} convention).
 * Measured over every fixture: the sum within 1.9e-7 of the logit scale, the terms within 5e-7,
 * the heads' terms within 3.8e-7 of HF's and adding up to their block's within 4.2e-8.
 */
class DirectLogitAttributionTest {
    static Stream<String> models() {
        return LogitLensTest.models();
    }

    @ParameterizedTest
    @MethodSource("models")
    void termsAddUpToTheLogitDifferenceAndMatchHfsActivations(String name) {
        Model model = Model.load(Fixtures.dir(name));
        HfReadout hf = new HfReadout(name);
        int L = model.config().numLayers(), d = hf.d, V = hf.vocab;
        double worstSum = 0, worstTerm = 0;
        for (JsonNode input : Fixtures.json(name, "reference.json").get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            int answer = ids[0] % V, other = (ids[0] + 11) % V;
            for (int position : new int[] {0, ids.length - 1}) {
                Attribution a = new DirectLogitAttribution(model).run(ids, position, answer, other);
                double scaleOfLogits = 1 + Math.abs(a.logitDifference());
                double sumErr = Math.abs(a.total() - a.logitDifference()) / scaleOfLogits;
                worstSum = Math.max(worstSum, sumErr);
                assertTrue(sumErr < 1e-6, name + ": terms sum to " + a.total() + ", logit difference " + a.logitDifference());

                float[] logits = model.forward(model.newState(), ids, true);
                assertEquals(logits[position * V + answer] - logits[position * V + other], a.modelLogitDifference(), 1e-6 * scaleOfLogits, "model's logit difference");
                if (hf.softcap == 0) assertEquals(a.modelLogitDifference(), a.logitDifference(), 1e-5 * scaleOfLogits, "no cap: the same difference");

                // independently, from HF's activations: center(c) / s . (w * (U[a] - U[b]))
                JsonNode hooks = input.get("hooks");
                float[] last = Fixtures.floats(hooks.get("blocks." + (L - 1) + ".hook_resid_post"));
                double s = hf.scale(last, position);
                double[] u = hf.direction(answer, other);
                double worstHere = 0;
                worstHere = Math.max(worstHere, Math.abs(term(hooks.get("blocks.0.hook_resid_pre"), position, u, s, hf.layerNorm) - a.embed()));
                for (int l = 0; l < L; l++) {
                    worstHere = Math.max(worstHere, Math.abs(term(hooks.get("blocks." + l + ".hook_attn_out"), position, u, s, hf.layerNorm) - a.attention()[l]));
                    worstHere = Math.max(worstHere, Math.abs(term(hooks.get("blocks." + l + ".hook_mlp_out"), position, u, s, hf.layerNorm) - a.mlp()[l]));
                }
                double b = 0;
                for (int i = 0; i < d; i++) b += hf.bias[i] * (hf.unembed[answer][i] - hf.unembed[other][i]);
                worstHere = Math.max(worstHere, Math.abs(b - a.bias()));
                worstTerm = Math.max(worstTerm, worstHere / scaleOfLogits);
                assertTrue(worstHere / scaleOfLogits < 2e-6, name + ": a term differs from HF's by " + worstHere);
            }
        }
        System.out.printf("%s: DLA terms sum to the logit difference within %.3g; terms vs HF's activations within %.3g (of scale)%n", name, worstSum, worstTerm);
    }

    /**
     * Each head's term from HF's {@code hook_z} (the 33-token input of {@code inner_hooks.json},
     * whose other activations {@code reference.json} holds) and the output projection read by its
     * HF name, through Gemma 2/3's post-attention norm at the scale of the whole attention output;
     * and the heads' terms with the output bias' add up to the block's attention term.
     */
    @ParameterizedTest
    @MethodSource("models")
    void headTermsAreHfsHeadOutputsAndAddUpToTheBlock(String name) {
        Model model = Model.load(Fixtures.dir(name));
        HfReadout hf = new HfReadout(name);
        JsonNode config = Fixtures.json(name, "config.json");
        String type = config.get("model_type").asText();
        int L = model.config().numLayers(), H = model.config().numHeads(), hd = model.config().headDim(), d = hf.d;
        JsonNode inner = Fixtures.json(name, "inner_hooks.json").get("inputs").get(0);
        JsonNode outer = null;
        for (JsonNode in : Fixtures.json(name, "reference.json").get("inputs")) if (in.get("name").equals(inner.get("name"))) outer = in;
        int[] ids = Fixtures.ints(inner.get("input_ids"));
        int position = ids.length - 1, answer = 3, other = 11;
        Attribution a = new DirectLogitAttribution(model).run(ids, position, answer, other);
        double scaleOfLogits = 1 + Math.abs(a.logitDifference()), worst = 0, worstSum = 0;

        float[] last = Fixtures.floats(outer.get("hooks").get("blocks." + (L - 1) + ".hook_resid_post"));
        double s = hf.scale(last, position);
        double[] u = hf.direction(answer, other);
        try (SafeTensorsFile st = SafeTensorsFile.open(Fixtures.dir(name).resolve("model.safetensors"))) {
            for (int l = 0; l < L; l++) {
                double heads = a.attentionBias()[l];
                for (double h : a.heads()[l]) heads += h;
                worstSum = Math.max(worstSum, Math.abs(heads - a.attention()[l]) / scaleOfLogits);
                assertTrue(Math.abs(heads - a.attention()[l]) / scaleOfLogits < 1e-6, name + " block " + l + ": heads sum to " + heads + ", block " + a.attention()[l]);

                String prefix = type.equals("gpt_neox") ? "gpt_neox.layers." + l + ".attention.dense" : "model.layers." + l + ".self_attn.o_proj";
                Tensor o = st.tensor(prefix + ".weight");
                float[] z = flatten(inner.get("hooks").get("blocks." + l + ".attn.hook_z"));
                double[][] out = new double[H][d];
                double[] raw = new double[d];
                for (int h = 0; h < H; h++) {
                    for (int i = 0; i < d; i++) {
                        for (int j = 0; j < hd; j++) out[h][i] += (double) o.get((long) i * H * hd + h * hd + j) * z[position * H * hd + h * hd + j];
                        raw[i] += out[h][i];
                    }
                }
                if (st.has(prefix + ".bias")) for (int i = 0; i < d; i++) raw[i] += st.tensor(prefix + ".bias").get(i);
                String post = "model.layers." + l + ".post_attention_layernorm.weight";
                if (type.startsWith("gemma") && !type.equals("gemma")) {
                    double rms = 0;
                    for (double v : raw) rms += v * v;
                    double inv = 1 / Math.sqrt(rms / d + config.get("rms_norm_eps").asDouble());
                    for (int h = 0; h < H; h++) for (int i = 0; i < d; i++) out[h][i] *= inv * (1 + st.tensor(post).get(i));
                }
                for (int h = 0; h < H; h++) {
                    double m = 0, dot = 0;
                    if (hf.layerNorm) m = java.util.Arrays.stream(out[h]).sum() / d;
                    for (int i = 0; i < d; i++) dot += (out[h][i] - m) * u[i];
                    double err = Math.abs(dot / s - a.heads()[l][h]) / scaleOfLogits;
                    worst = Math.max(worst, err);
                    assertTrue(err < 2e-6, name + " block " + l + " head " + h + ": " + a.heads()[l][h] + " vs HF's " + dot / s);
                }
            }
        }
        System.out.printf("%s: DLA heads vs HF's z: within %.3g; heads + bias vs block within %.3g (of scale)%n", name, worst, worstSum);
    }

    /** Nested JSON arrays flattened in order. */
    static float[] flatten(JsonNode a) {
        java.util.List<Float> out = new java.util.ArrayList<>();
        flatten(a, out);
        float[] f = new float[out.size()];
        for (int i = 0; i < f.length; i++) f[i] = out.get(i);
        return f;
    }

    private static void flatten(JsonNode a, java.util.List<Float> out) {
        if (a.isArray()) for (JsonNode n : a) flatten(n, out);
        else out.add((float) a.asDouble());
    }

    private static double term(JsonNode activation, int position, double[] u, double s, boolean center) {
        float[] c = Fixtures.floats(activation);
        int d = u.length;
        double mean = 0;
        if (center) {
            for (int i = 0; i < d; i++) mean += c[position * d + i];
            mean /= d;
        }
        double dot = 0;
        for (int i = 0; i < d; i++) dot += (c[position * d + i] - mean) * u[i];
        return dot / s;
    }

    @Test
    void refusesBadArguments() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        DirectLogitAttribution dla = new DirectLogitAttribution(model);
        assertThrows(IllegalArgumentException.class, () -> dla.run(new int[0], 1, 2));
        assertThrows(IllegalArgumentException.class, () -> dla.run(new int[] {1, 2}, 2, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> dla.run(new int[] {1, 2}, 1, -1));
    }
}
