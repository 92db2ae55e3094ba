/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static io.jsteer.tests.steering.SteeringFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.lora.BiasPatch;
import io.jsteer.steering.lora.LoraAdapter;
import io.jsteer.steering.lora.MlpInputs;
import io.jsteer.steering.lora.RankOneAdapter;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Steering vectors as weight changes: exact GPT-NeoX bias patches, Gemma rank-1 LoRA. */
class AdapterTest {
    @TempDir
    Path dir;

    static List<int[]> randomPrompts(Random rnd, int count, int length, int vocab) {
        List<int[]> out = new ArrayList<>();
        for (int p = 0; p < count; p++) out.add(rnd.ints(length, 1, vocab).toArray());
        return out;
    }

    static SteeringVector vector(HookName hook, int width, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[width];
        for (int i = 0; i < width; i++) v[i] = (float) rnd.nextGaussian();
        return new SteeringVector(hook, v, "test", Map.of(), "m");
    }

    /** W_down h (+ bias) by a plain double loop, {@code [rows][hidden]}. */
    static float[] downProjection(LayerWeights w, float[] h, int ff, int d) {
        int rows = h.length / ff;
        float[] out = new float[rows * d];
        float[] wrow = new float[ff];
        for (int o = 0; o < d; o++) {
            w.down().read((long) o * ff, wrow);
            for (int r = 0; r < rows; r++) {
                double s = w.downBias() == null ? 0 : w.downBias()[o];
                for (int i = 0; i < ff; i++) s += (double) wrow[i] * h[r * ff + i];
                out[r * d + o] = (float) s;
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel", "pythia-tiny-sequential", "gemma-tiny"})
    void recomputedDownProjectionInputsReproduceTheMlpOutput(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int layer = 1, d = model.config().hiddenSize(), ff = model.config().intermediateSize();
        List<int[]> prompts = randomPrompts(new Random(3), 2, 6, model.config().vocabSize());
        float[] h = MlpInputs.of(model, layer, prompts, Readout.all());
        HookName out = new HookName(layer, HookPoint.MLP_OUT);
        float[] mlpOut = ActivationCache.record(model, prompts, List.of(out), Readout.all()).stacked(out);
        assertClose(mlpOut, downProjection(model.weights().layers()[layer], h, ff, d), 1e-5, name + " W_down h vs hook_mlp_out");
    }

    @ParameterizedTest
    @ValueSource(strings = {"blocks.1.hook_resid_post", "blocks.1.hook_mlp_out", "blocks.1.hook_attn_out", "blocks.2.hook_resid_pre"})
    void pythiaBiasPatchIsExact(String hookName) {
        Model model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        HookName hook = HookName.parse(hookName);
        SteeringVector v = vector(hook, 64, 5);
        BiasPatch patch = RankOneAdapter.biasPatch(model, v, 2.5);
        Model patched = patch.apply(model);
        AddVector add = new AddVector(v, 2.5, PositionRule.all());
        int[] ids = Fixtures.ints(Fixtures.json(SteeringFixtures.PYTHIA, "steering.json").get("eval_input_ids"));
        assertClose(SteeringFixtures.logits(model, add, ids), SteeringFixtures.logits(patched, null, ids), 1e-5, "bias patch for " + hook);
        int[] prompt = Arrays.copyOf(ids, 6);
        assertArrayEquals(SteeringFixtures.greedyCached(model, add, prompt, 6), SteeringFixtures.greedyCached(patched, null, prompt, 6));
    }

    @Test
    void biasPatchFileHoldsTheNewBias() {
        Model model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        SteeringVector v = vector(new HookName(1, HookPoint.RESID_POST), 64, 6);
        BiasPatch patch = RankOneAdapter.biasPatch(model, v, -1.5);
        Path f = dir.resolve("patch.safetensors");
        patch.write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f);
             SafeTensorsFile original = SafeTensorsFile.open(Fixtures.dir(SteeringFixtures.PYTHIA).resolve("model.safetensors"))) {
            String name = "gpt_neox.layers.1.mlp.dense_4h_to_h.bias";
            assertEquals(List.of(name), List.copyOf(st.names()));
            float[] before = original.tensor(name).toFloatArray(), after = st.tensor(name).toFloatArray();
            float[] d = v.direction();
            for (int i = 0; i < 64; i++) assertEquals((float) (before[i] - 1.5 * d[i]), after[i], "element " + i);
            assertEquals(name, st.metadata().get("replaces"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankOneAdapter.biasPatch(model, vector(new HookName(0, HookPoint.RESID_PRE), 64, 1), 1));
        assertEquals("no bias precedes blocks.0.hook_resid_pre (it is the token embedding)", e.getMessage());
        Model gemma = Model.load(Fixtures.dir("gemma-tiny"));
        e = assertThrows(IllegalArgumentException.class, () -> RankOneAdapter.biasPatch(gemma, vector(new HookName(1, HookPoint.RESID_POST), 64, 1), 1));
        assertEquals("GemmaForCausalLM has no output biases to fold a steering vector into; use a rank-1 LoRA", e.getMessage());
    }

    @Test
    void gemmaRankOneLora() throws Exception {
        Model model = Model.load(Fixtures.dir("gemma-tiny"));
        int layer = 1, d = 64, ff = model.config().intermediateSize(), vocab = model.config().vocabSize();
        Random rnd = new Random(8);
        HookName hook = new HookName(layer, HookPoint.RESID_POST);
        SteeringVector v = new Caa(hook, 1).fitVector(model, new ContrastSet(randomPrompts(rnd, 4, 5, vocab), randomPrompts(rnd, 4, 5, vocab)));
        List<int[]> train = randomPrompts(rnd, 3, 9, vocab);
        float[] h = MlpInputs.of(model, layer, train, Readout.all());
        LoraAdapter lora = RankOneAdapter.lora(model, v, 3.0, h, 1e-9);
        LoraAdapter.Error fit = lora.error(h);
        System.out.printf("rank-1 LoRA on %d fitting rows (width %d): max |a.h - 1| = %.3g, rms %.3g%n", fit.rows(), ff, fit.max(), fit.rms());
        assertEquals(27, fit.rows());
        assertTrue(fit.max() < 1e-3, "27 independent rows in 160 dimensions are interpolated, max error " + fit.max());

        Model merged = lora.apply(model);
        AddVector add = new AddVector(v, 3.0, PositionRule.all());
        assertClose(SteeringFixtures.logits(model, add, train.getFirst()), SteeringFixtures.logits(merged, null, train.getFirst()), 1e-3, "LoRA vs added vector on a fitting prompt");

        // held-out rows: the reported error is the relative error of what the merged weights add
        float[] held = MlpInputs.of(model, layer, randomPrompts(rnd, 2, 7, vocab), Readout.all());
        LoraAdapter.Error out = lora.error(held);
        float[] base = downProjection(model.weights().layers()[layer], held, ff, d);
        float[] withLora = downProjection(merged.weights().layers()[layer], held, ff, d);
        float[] cv = v.direction();
        double worst = 0, cvNorm = 0;
        for (float x : cv) cvNorm += 9.0 * x * x;
        cvNorm = Math.sqrt(cvNorm);
        for (int r = 0; r < out.rows(); r++) {
            double e = 0;
            for (int i = 0; i < d; i++) {
                double diff = withLora[r * d + i] - base[r * d + i] - 3.0 * cv[i];
                e += diff * diff;
            }
            worst = Math.max(worst, Math.sqrt(e) / cvNorm);
        }
        System.out.printf("held-out rows: reported max error %.3g, measured %.3g%n", out.max(), worst);
        assertEquals(out.max(), worst, 1e-3 * Math.max(1, out.max()));

        lora.writePeft(dir.resolve("adapter"), "tiny/gemma");
        try (SafeTensorsFile st = SafeTensorsFile.open(dir.resolve("adapter/adapter_model.safetensors"))) {
            Tensor a = st.tensor("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight");
            Tensor b = st.tensor("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
            assertArrayEquals(new long[] {1, ff}, a.shape());
            assertArrayEquals(new long[] {d, 1}, b.shape());
            assertArrayEquals(lora.a(), a.toFloatArray());
            assertArrayEquals(lora.b(), b.toFloatArray());
        }
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter/adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(1, cfg.get("r").asInt());
        assertEquals(1, cfg.get("lora_alpha").asInt());
        assertEquals("down_proj", cfg.get("target_modules").get(0).asText());
        assertEquals(1, cfg.get("layers_to_transform").get(0).asInt());

        Model gemma2 = Model.load(Fixtures.dir("gemma2-tiny"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankOneAdapter.lora(gemma2, vector(hook, gemma2.config().hiddenSize(), 1), 1, new float[gemma2.config().intermediateSize()], 0));
        assertEquals("Gemma2ForCausalLM normalises the MLP output (post_feedforward_layernorm) before adding it: no change of down_proj adds a fixed vector to the residual stream", e.getMessage());
    }
}
