/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.tests.Fixtures;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.SafeTensorsWriter;
import io.jsteer.weights.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export --bias-patch / --lora} and the {@code sas} method spec, checked by what they must
 * be equivalent to: a checkpoint carrying the patched bias reproduces the Hugging Face steered
 * logits, and SAS through an identity autoencoder adds the mean difference of ReLU'd activations.
 */
class ExportAndSaeCommandsTest {
    static final double TOLERANCE = 1e-4;
    static Path model, caaFile, pairs;
    static JsonNode ref;

    @BeforeAll
    static void fit(@TempDir Path tmp) {
        model = Fixtures.dir("pythia-tiny-parallel");
        ref = Fixtures.json(model.resolve("steering.json"));
        JsonNode caa = ref.get("caa");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < caa.get("positive_ids").size(); i++) {
            b.append("{\"positive\": ").append(caa.get("positive_ids").get(i)).append(", \"negative\": ").append(caa.get("negative_ids").get(i)).append("}\n");
        }
        pairs = Cli.write(tmp.resolve("pairs.jsonl"), b.toString());
        caaFile = tmp.resolve("caa.safetensors");
        Cli.run("vector", "--model", model, "--method", "caa:layer=1", "--contrast", pairs, "-o", caaFile).ok();
    }

    @Test
    void aCheckpointWithTheBiasPatchSteersLikeTheVector(@TempDir Path tmp) throws IOException {
        Path patch = tmp.resolve("patch.safetensors");
        Cli.Result r = Cli.run("export", "--model", model, "--vector", caaFile, "-c", 4, "--bias-patch", patch).ok();
        assertTrue(r.out().contains("gpt_neox.layers.1.mlp.dense_4h_to_h.bias"), r.out());

        Path patched = Files.createDirectory(tmp.resolve("patched-model"));
        Files.copy(model.resolve("config.json"), patched.resolve("config.json"));
        try (SafeTensorsFile original = SafeTensorsFile.open(model.resolve("model.safetensors"));
             SafeTensorsFile replacement = SafeTensorsFile.open(patch)) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String name : original.names()) {
                Tensor t = replacement.has(name) ? replacement.tensor(name) : original.tensor(name);
                w.add(name, t, DType.F32);
            }
            w.write(patched.resolve("model.safetensors"));
        }
        Path out = tmp.resolve("logits.json");
        Cli.run("logits", "--model", patched, "--ids", Cli.ids(ref.get("eval_input_ids")), "-o", out).ok();
        double err = Cli.relativeError(Fixtures.floats(Fixtures.json(out).get("logits")), Fixtures.floats(ref.get("steered").get("caa_x4").get("logits")));
        assertTrue(err <= TOLERANCE, "patched checkpoint vs HF steered logits: " + err);
    }

    @Test
    void loraExportWritesAPeftAdapterThatReproducesTheVectorOnItsPrompts(@TempDir Path tmp) throws IOException {
        Path prompts = Cli.write(tmp.resolve("prompts.jsonl"), ref.get("eval_input_ids") + "\n" + ref.get("caa").get("positive_ids").get(0) + "\n");
        Path dir = tmp.resolve("adapter");
        Cli.Result r = Cli.run("export", "--model", model, "--vector", caaFile, "-c", 4, "--lora", dir, "--prompts", prompts, "--ridge", 0).ok();
        double rms = Double.parseDouble(r.out().replaceAll("(?s).*rms ([0-9.eE+-]+),.*", "$1"));
        assertTrue(rms < 1e-3, "fewer rows than MLP inputs: the fit interpolates; " + r.out());
        JsonNode cfg = Fixtures.json(dir.resolve("adapter_config.json"));
        assertEquals(1, cfg.get("r").asInt());
        assertEquals("dense_4h_to_h", cfg.get("target_modules").get(0).asText());
        try (SafeTensorsFile st = SafeTensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            float[] b = st.tensor("base_model.model.gpt_neox.layers.1.mlp.dense_4h_to_h.lora_B.weight").toFloatArray();
            float[] want = Fixtures.floats(ref.get("steered").get("caa_x4").get("vector"));
            assertTrue(Cli.relativeError(b, want) <= TOLERANCE, "lora_B = 4 v");
        }
    }

    @Test
    void sasThroughAnIdentityAutoencoderAddsTheReluMeanDifference(@TempDir Path tmp) {
        int d = 64;
        Path sae = identitySae(tmp.resolve("sae"), d);
        float[] delta = new float[d];
        JsonNode pos = ref.get("caa").get("positive_last_token_acts"), neg = ref.get("caa").get("negative_last_token_acts");
        for (int i = 0; i < d; i++) {
            double p = 0, n = 0;
            for (JsonNode row : pos) p += Math.max(0, row.get(i).asDouble()) / pos.size();
            for (JsonNode row : neg) n += Math.max(0, row.get(i).asDouble()) / neg.size();
            delta[i] = (float) (p - n);
        }
        Path vector = tmp.resolve("delta.safetensors");
        VectorFiles.save(vector, new SteeringVector(io.jsteer.transformer.hooks.HookName.parse("blocks.1.hook_resid_post"), delta, "test", Map.of(), "fixture"));

        String ids = Cli.ids(ref.get("eval_input_ids"));
        Path viaSas = tmp.resolve("sas.json"), viaVector = tmp.resolve("vector.json");
        Cli.run("logits", "--model", model, "--ids", ids, "--method", "sas:sae=" + sae + ",coeff=2,clamp=false,remove_shared=false",
                "--contrast", pairs, "-o", viaSas).ok();
        Cli.run("logits", "--model", model, "--ids", ids, "--vector", vector, "-c", 2, "-o", viaVector).ok();
        double err = Cli.relativeError(Fixtures.floats(Fixtures.json(viaSas).get("logits")), Fixtures.floats(Fixtures.json(viaVector).get("logits")));
        assertTrue(err <= TOLERANCE, "SAS vs the equivalent added vector: " + err);
    }

    /** A SAELens folder whose encoder and decoder are the identity at blocks.1.hook_resid_post. */
    private static Path identitySae(Path dir, int d) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Cli.write(dir.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": " + d + ", \"d_sae\": " + d + ", \"activation_fn_str\": \"relu\","
                + " \"apply_b_dec_to_input\": false, \"normalize_activations\": \"none\", \"hook_name\": \"blocks.1.hook_resid_post\"}");
        float[] eye = new float[d * d];
        for (int i = 0; i < d; i++) eye[i * d + i] = 1;
        new SafeTensorsWriter().add("W_enc", eye, DType.F32, d, d).add("W_dec", eye, DType.F32, d, d)
                .add("b_enc", new float[d], DType.F32, d).add("b_dec", new float[d], DType.F32, d)
                .write(dir.resolve("sae_weights.safetensors"));
        return dir;
    }
}
