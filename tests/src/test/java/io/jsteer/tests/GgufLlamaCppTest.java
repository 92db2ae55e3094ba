/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * jsteer against llama.cpp itself on the same GGUF files: the tiny model of every architecture as
 * F32, F16, Q8_0 and Q4_K_M (llama-quantize's own files; its Q4_K_M falls back to Q5_0 and Q8_0 for
 * the tiny models' short rows), llama.cpp's logits for the same ids
 * computed offline by fixtures-gguf/make_llamacpp.sh (llama_logits.c linked against libllama), and
 * the same control vector applied by both. Also llama.cpp's tokenizer on each embedded vocabulary.
 *
 * <p>Tolerances are the measured max abs logit difference (printed) with a margin, relative to the
 * logits' scale (about 1 to 4 here). They are not 1e-6: llama.cpp computes differently, not
 * wrongly. It multiplies F16 and quantized weights with activations rounded to F16 or quantized to
 * 8 bits per block (Q8_0/Q8_K), while jsteer decodes the weights exactly and keeps activations in
 * float32; its KV cache holds keys and values as F16 (its default); its GELU is the tanh approximation where Hugging Face's GPT-NeoX (and jsteer) use erf;
 * its softmax, norms and RoPE round in other orders. A wrong layer, norm, scale or rotation gives
 * differences of order 1.
 */
class GgufLlamaCppTest {
    private static final List<String> MODELS = List.of("pythia-tiny-parallel", "gemma-tiny", "gemma2-tiny", "gemma3-tiny", "llama2-tiny",
            "mistral-tiny", "qwen2-tiny", "qwen3-tiny", "llama3-tiny");

    /**
     * Per type: the bound on max |jsteer - llama.cpp| over every position's logits (measured: F32
     * 2e-3 to 6.6e-3, F16 2.6e-3 to 7e-3, Q8_0 0.043 to 0.14, Q4_K_M 0.051 to 0.128; the control
     * vector's shift within 4e-3). The quantized bounds are large because llama.cpp quantizes the
     * activations too (to Q8_0 blocks for Q8_0/Q4_0/Q5_0 weights, Q8_K for K-quants) and these tiny
     * random models amplify that; the F32 and F16 files, whose products both compute in float32, hold
     * the architecture to 1e-2, and the quantized decoding itself is checked bit for bit (QuantsTest).
     */
    private static final Map<String, Float> BOUND = Map.of("f32", 1e-2f, "f16", 1e-2f, "q8_0", 2e-1f, "q4_k_m", 2e-1f);

    static Stream<Arguments> files() {
        return MODELS.stream().flatMap(m -> BOUND.keySet().stream().sorted().map(t -> Arguments.of(m, t)));
    }

    private static int[] ids() throws IOException {
        String line = Files.readString(GgufModelTest.gguf("logits/ids.txt")).trim();
        return Arrays.stream(line.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static float[] llamaCpp(String file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(GgufModelTest.gguf("logits/" + file))).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @ParameterizedTest
    @MethodSource("files")
    void logitsAgreeWithLlamaCpp(String model, String type) throws IOException {
        String file = model + "." + type;
        Model m = Model.load(GgufModelTest.gguf(file + ".gguf"));
        float[] got = m.forward(m.newState(), ids(), true);
        float[] want = llamaCpp(file + ".f32");
        assertEquals(want.length, got.length, file);
        float err = Fixtures.maxAbsDiff(got, want);
        System.out.printf("%s.gguf: max abs logit difference to llama.cpp %.3g (logits up to %.3g)%n", file, err, Fixtures.maxAbs(want));
        assertTrue(err <= BOUND.get(type), file + ": " + err);
    }

    /** The same control vector file at strength 1.5: llama.cpp's --control-vector-scaled, jsteer's resid_post additions. */
    @ParameterizedTest
    @MethodSource("models")
    void controlVectorShiftsTheLogitsAsInLlamaCpp(String model) throws IOException {
        Model m = Model.load(GgufModelTest.gguf(model + ".f32.gguf"));
        State s = m.newState();
        for (Map.Entry<Integer, float[]> d : GgufControlVector.read(GgufModelTest.gguf("cvec/" + model + ".gguf")).entrySet()) {
            SteeringVector v = new SteeringVector(new HookName(d.getKey(), HookPoint.RESID_POST), d.getValue(), "gguf-control-vector", Map.of(), model);
            new AddVector(v, 1.5, PositionRule.all()).attach(s);
        }
        float[] steered = m.forward(s, ids(), true);
        float[] plain = m.forward(m.newState(), ids(), true);
        float[] want = llamaCpp(model + ".cvec.f32"), wantPlain = llamaCpp(model + ".f32.f32");
        float shift = 0, err = 0, shiftErr = 0;
        for (int i = 0; i < want.length; i++) {
            shift = Math.max(shift, Math.abs(want[i] - wantPlain[i]));
            err = Math.max(err, Math.abs(steered[i] - want[i]));
            shiftErr = Math.max(shiftErr, Math.abs((steered[i] - plain[i]) - (want[i] - wantPlain[i])));
        }
        System.out.printf("%s control vector: llama.cpp shifts logits by up to %.3g; jsteer's steered logits within %.3g, its shift within %.3g%n",
                model, shift, err, shiftErr);
        assertTrue(shift > 0.1f, "the control vector changes llama.cpp's logits");
        assertTrue(err <= BOUND.get("f32"), model + ": " + err);
        assertTrue(shiftErr <= BOUND.get("f32"), model + ": " + shiftErr);
    }

    static Stream<String> models() {
        return MODELS.stream();
    }

    /** Each model's embedded vocabulary (make_gguf.py trains a small one) encodes as llama.cpp's tokenizer does. */
    @Test
    void embeddedVocabularyTokenizesAsLlamaCpp() throws IOException {
        ObjectMapper json = new ObjectMapper();
        int rows = 0;
        for (String line : Files.readAllLines(GgufModelTest.gguf("tokens.tsv"))) {
            String[] f = line.split("\t");
            String text = json.readValue(f[1], String.class);
            int[] want = Arrays.stream(f[2].split(",")).mapToInt(Integer::parseInt).toArray();
            Tokenizer t = Tokenizers.load(GgufModelTest.gguf(f[0]));
            assertArrayEquals(want, t.encode(text, true), f[0] + ": " + f[1]);
            rows++;
        }
        assertEquals(3 * MODELS.size(), rows);
    }
}
