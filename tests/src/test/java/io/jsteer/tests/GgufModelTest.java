/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.ModelWeights;
import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.QuantizedWeights;
import io.jsteer.weights.RopeScaling;
import io.jsteer.weights.Tensor;
import io.jsteer.weights.WeightSource;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp model files of the fixture models ({@code src/test/resources/fixtures-gguf}, written by
 * llama.cpp's gguf-py as its converter would; see make_gguf.py there).
 *
 * <p>An F32 file must be the very model of its Hugging Face folder: same hyper-parameters and the
 * same logits (the converter's changes undone exactly). A quantized file must give the logits of
 * the same file with every block decoded to float32 first (decoding is checked bit for bit against
 * llama.cpp in QuantsTest), exactly: the quantized products sum the decoded weights in the F32
 * products' order, at the F32 products' width wherever the JIT's vectors are at least 256 bits
 * wide and no narrower width is forced; and its distance to the Hugging Face reference is the
 * quantization error, bounded per type as measured.
 */
class GgufModelTest {
    static Path gguf(String file) {
        try {
            return Path.of(GgufModelTest.class.getResource("/fixtures-gguf/" + file).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<String> archs() {
        return Stream.of("pythia-tiny-parallel", "gemma-tiny", "gemma2-tiny", "gemma3-tiny", "llama2-tiny", "llama3-tiny", "mistral-tiny", "qwen2-tiny",
                "qwen3-tiny");
    }

    /**
     * The Hugging Face fixture as llama.cpp reads its GGUF conversion: llama.cpp ignores Gemma 2/3's
     * query_pre_attn_scalar and scales q.k by 1/sqrt(head_dim) (src/models/gemma2.cpp, gemma3.cpp),
     * and reads Mistral as "llama", without its sliding window.
     */
    static Model hfAsLlamaCppReadsIt(String name) {
        Checkpoint cp = Checkpoint.open(Fixtures.dir(name));
        ModelConfig c = cp.config();
        boolean mistral = c.architecture() == Architecture.MISTRAL;
        ModelConfig asRead = new ModelConfig(mistral ? Architecture.LLAMA : c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                c.numHeads(), c.numKvHeads(), c.headDim(), c.normEps(), c.activation(), c.ropeTheta(), c.ropeLocalTheta(),
                c.ropeScaling(), c.rotaryDims(), c.parallelResidual(), c.attentionBias(), c.mlpBias(), c.tieWordEmbeddings(),
                mistral ? 0 : c.slidingWindow(), c.slidingPattern(), c.attnSoftcap(), c.finalSoftcap(), (float) (1 / Math.sqrt(c.headDim())),
                c.maxPositions(), c.bosTokenId(), c.eosTokenIds());
        return new Model(asRead, ModelWeights.load(asRead, cp.weights()), CpuBackend.INSTANCE);
    }

    @ParameterizedTest
    @MethodSource("archs")
    void f32FileIsTheHuggingFaceModel(String name) {
        Model fromGguf = Model.load(gguf(name + ".f32.gguf"));
        Model hf = hfAsLlamaCppReadsIt(name);
        ModelConfig g = fromGguf.config(), h = hf.config();
        assertEquals(h.architecture(), g.architecture());
        assertEquals(h.vocabSize(), g.vocabSize());
        assertEquals(h.hiddenSize(), g.hiddenSize());
        assertEquals(h.intermediateSize(), g.intermediateSize());
        assertEquals(h.numLayers(), g.numLayers());
        assertEquals(h.numHeads(), g.numHeads());
        assertEquals(h.numKvHeads(), g.numKvHeads());
        assertEquals(h.headDim(), g.headDim());
        assertEquals(h.normEps(), g.normEps());
        assertEquals(h.activation(), g.activation());
        assertEquals(h.rotaryDims(), g.rotaryDims());
        assertEquals(h.parallelResidual(), g.parallelResidual());
        assertEquals(h.qkvBias(), g.qkvBias());
        assertEquals(h.attentionBias(), g.attentionBias());
        assertEquals(h.mlpBias(), g.mlpBias());
        // llama3 scaling arrives as the converter's per-dimension factors: llama3ScalingArrivesAsTheConvertersFactors
        boolean factors = h.ropeScaling().type() == RopeScaling.Type.LLAMA3;
        if (!factors) assertEquals(h.ropeScaling(), g.ropeScaling());
        assertEquals(h.tieWordEmbeddings(), g.tieWordEmbeddings());
        assertEquals(h.slidingWindow(), g.slidingWindow());
        assertEquals(h.attnSoftcap(), g.attnSoftcap());
        assertEquals(h.finalSoftcap(), g.finalSoftcap());
        assertEquals(h.attentionScale(), g.attentionScale());
        assertEquals(h.maxPositions(), g.maxPositions());
        for (int l = 0; l < h.numLayers(); l++) {
            assertEquals(h.isSliding(l), g.isSliding(l), "sliding layer " + l);
            assertEquals(h.ropeBase(l), g.ropeBase(l), 1e-9 * h.ropeBase(l), "rope base of layer " + l);
        }
        JsonNode ref = Fixtures.json(name, "reference.json");
        for (JsonNode input : ref.get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            float[] want = hf.forward(hf.newState(), ids, true), got = fromGguf.forward(fromGguf.newState(), ids, true);
            float err = Fixtures.maxAbsDiff(got, want);
            System.out.printf("%s.f32.gguf %s: logits max abs diff to the HF folder %.3g%n", name, input.get("name").asText(), err);
            // the same float32 weights through the same code: the norms' 1 + w - 1 is exact. With llama3
            // scaling, llama.cpp's inverse frequency base^(-2i/d) / factor rounds differently from HF's
            // blend (by an ulp where they blend), so the two are held to the forward pass's tolerance
            float bound = factors ? ForwardReferenceTest.TOLERANCE * Math.max(1, Fixtures.maxAbs(want)) : 0;
            assertTrue(err <= bound, name + " " + input.get("name").asText() + ": " + err);
        }
    }

    /**
     * llama.cpp's converter turns Llama 3.1's rope_scaling into {@code rope_freqs.weight}
     * (convert_hf_to_gguf.py, LlamaModel.generate_extra_tensors), written here from its source in
     * the float32 of its tensors, independently of jsteer's writer: 1 for wavelengths below
     * {@code L / high}, {@code factor} above {@code L / low}, {@code 1 / ((1 - s) / factor + s)}
     * between. The power is correctly rounded, as make_gguf.py computes it (a vectorized float32 pow
     * may be an ulp off).
     */
    static float[] convertersLlama3Factors(JsonNode config) {
        JsonNode rs = config.get("rope_scaling");
        int dim = config.get("head_dim").asInt();
        float base = (float) config.get("rope_theta").asDouble(), factor = (float) rs.get("factor").asDouble();
        double low = rs.get("low_freq_factor").asDouble(), high = rs.get("high_freq_factor").asDouble();
        int old = rs.get("original_max_position_embeddings").asInt();
        float[] out = new float[dim / 2];
        for (int k = 0; k < dim; k += 2) {
            float freq = 1.0f / (float) Math.pow(base, (float) k / (float) dim);
            float wavelen = (float) (2 * Math.PI) / freq;
            float smooth = ((float) old / wavelen - (float) low) / (float) (high - low);
            out[k / 2] = wavelen < (float) (old / high) ? 1f : wavelen > (float) (old / low) ? factor : 1f / ((1f - smooth) / factor + smooth);
        }
        return out;
    }

    @Test
    void llama3ScalingArrivesAsTheConvertersFactors() {
        JsonNode config = Fixtures.json("llama3-tiny", "config.json");
        float[] want = convertersLlama3Factors(config);
        // the fixture exercises all three regimes: kept, divided by factor, blended
        assertEquals(1f, want[0]);
        assertEquals(8f, want[want.length - 1]);
        assertTrue(want[1] > 1 && want[1] < 8 && want[2] > want[1] && want[2] < 8, Arrays.toString(want));
        Model fromGguf = Model.load(gguf("llama3-tiny.f32.gguf"));
        RopeScaling got = fromGguf.config().ropeScaling();
        assertEquals(RopeScaling.Type.FACTORS, got.type());
        assertArrayEquals(want, got.frequencyFactors(), "rope_freqs.weight as gguf-py wrote it");

        // llama.cpp divides base^(-2i/d) by the factor; Hugging Face blends the inverse frequencies: the same
        // up to the roundings of either formula (a few ulps where they blend; measured: 2, printed)
        ModelConfig h;
        try (Checkpoint cp = Checkpoint.open(Fixtures.dir("llama3-tiny"))) {
            h = cp.config();
        }
        float[] hf = new Rope(h.rotaryDims(), h.ropeTheta(), h.ropeScaling()).inverseFrequencies();
        float[] gg = new Rope(h.rotaryDims(), h.ropeTheta(), got).inverseFrequencies();
        for (int i = 0; i < hf.length; i++) {
            System.out.printf("llama3-tiny pair %d: inverse frequency HF %.9g, GGUF %.9g (%d ulp)%n", i, hf[i], gg[i],
                    Float.floatToIntBits(gg[i]) - Float.floatToIntBits(hf[i]));
            assertEquals(hf[i], gg[i], 4 * Math.ulp(hf[i]), "inverse frequency " + i);
        }
        // and the model is Hugging Face's: its own reference logits at the forward pass's tolerance
        for (JsonNode input : Fixtures.json("llama3-tiny", "reference.json").get("inputs")) {
            float[] logits = fromGguf.forward(fromGguf.newState(), Fixtures.ints(input.get("input_ids")), true);
            float[] expected = Fixtures.floats(input.get("logits"));
            float err = Fixtures.maxAbsDiff(logits, expected) / Math.max(1, Fixtures.maxAbs(expected));
            System.out.printf("llama3-tiny.f32.gguf %s: logits max abs err to HF's reference %.3g of scale%n", input.get("name").asText(), err);
            assertTrue(err <= ForwardReferenceTest.TOLERANCE, input.get("name").asText() + ": " + err);
        }
    }

    /** Max abs logit error relative to the largest reference logit, per file: measured (printed) plus a margin. */
    static Stream<Object[]> quantized() {
        return Stream.of(
                new Object[] {"pythia-tiny-parallel.f16.gguf", 1e-3f},
                new Object[] {"pythia-tiny-parallel.bf16.gguf", 8e-3f},
                new Object[] {"pythia-tiny-parallel.q8_0.gguf", 2.5e-2f},
                new Object[] {"pythia-tiny-parallel.q4_0.gguf", 3e-1f},
                new Object[] {"pythia-tiny-parallel.kmix.gguf", 1.2e-1f},
                new Object[] {"gemma-tiny.q8_0.gguf", 4.5e-2f},
                new Object[] {"gemma2-tiny.q8_0.gguf", 7.5e-2f},
                new Object[] {"gemma3-tiny.q8_0.gguf", 5e-2f},
                new Object[] {"llama2-tiny.q8_0.gguf", 5e-2f});
    }

    @ParameterizedTest
    @MethodSource("quantized")
    void quantizedFileComputesItsOwnDecodedWeights(String file, float quantizationBound) {
        Model q = Model.load(gguf(file));
        Checkpoint cp = Checkpoint.open(gguf(file));
        Model decoded = new Model(cp.config(), ModelWeights.load(cp.config(), new Decoded(cp.weights())), CpuBackend.INSTANCE);
        String name = file.substring(0, file.indexOf('.'));
        Model hf = hfAsLlamaCppReadsIt(name);
        for (JsonNode input : Fixtures.json(name, "reference.json").get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            float[] got = q.forward(q.newState(), ids, true);
            float[] want = decoded.forward(decoded.newState(), ids, true);
            float[] exact = hf.forward(hf.newState(), ids, true);
            float scale = Math.max(1, Fixtures.maxAbs(want));
            float err = Fixtures.maxAbsDiff(got, want), qerr = Fixtures.maxAbsDiff(got, exact);
            System.out.printf("%s %s: to its decoded weights %.3g, to the unquantized model %.3g (scale %.3g)%n",
                    file, input.get("name").asText(), err, qerr, scale);
            // F16 and BF16 products have widths and (BF16) an order of their own; block formats share F32's
            boolean blockFormat = !file.endsWith(".f16.gguf") && !file.endsWith(".bf16.gguf");
            if (blockFormat && quantizedProductsAreF32Products()) {
                assertArrayEquals(want, got, file + " " + input.get("name").asText() + ": logits differ from the decoded weights'");
            } else {
                // the same terms in another order
                assertTrue(err <= 2e-6f * scale, file + " " + input.get("name").asText() + ": " + err + " from the decoded weights' logits");
            }
            assertTrue(qerr <= quantizationBound * scale, file + " " + input.get("name").asText() + ": quantization error " + qerr);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel.q8_0.gguf", "pythia-tiny-parallel.kmix.gguf", "gemma2-tiny.q8_0.gguf"})
    void decodingTokenByTokenGivesThePrefillLogitsExactly(String file) {
        Model m = Model.load(gguf(file));
        int[] ids = {5, 17, 3, 250, 42, 7, 99, 1, 64, 300};
        int vocab = m.config().vocabSize();
        float[] all = m.forward(m.newState(), ids, true);
        var s = m.newState();
        for (int t = 0; t < ids.length; t++) {
            float[] one = m.forward(s, new int[] {ids[t]}, false);
            for (int v = 0; v < vocab; v++) {
                assertEquals(Float.floatToRawIntBits(all[t * vocab + v]), Float.floatToRawIntBits(one[v]), file + " token " + t + " logit " + v);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel.q8_0.gguf", "pythia-tiny-parallel.q4_0.gguf", "gemma-tiny.q8_0.gguf", "gemma2-tiny.q8_0.gguf",
        "gemma3-tiny.q8_0.gguf"})
    void quantizingAtLoadGivesTheLlamaQuantizeFile(String file) {
        // --quantize encodes as llama-quantize (quantize_row_*_ref), so the folder quantized in memory
        // is the file gguf-py wrote from it, row for row, and every product is the same
        Model fromFile = Model.load(gguf(file));
        String name = file.substring(0, file.indexOf('.'));
        DType type = QuantizedWeights.parseType(file.split("\\.")[1]);
        Model hf = hfAsLlamaCppReadsIt(name);
        Checkpoint cp = Checkpoint.open(Fixtures.dir(name));
        Model quantized = new Model(hf.config(), ModelWeights.load(hf.config(), new QuantizedWeights(cp.weights(), type)), CpuBackend.INSTANCE);
        for (JsonNode input : Fixtures.json(name, "reference.json").get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            float[] want = fromFile.forward(fromFile.newState(), ids, true), got = quantized.forward(quantized.newState(), ids, true);
            assertEquals(0f, Fixtures.maxAbsDiff(got, want), file + " " + input.get("name").asText());
        }
    }

    /**
     * Whether the quantized products run at the F32 products' vector width (that of the BF16
     * products, but at least 256 bits), where each is bit for bit the F32 product of the decoded
     * weights: not under a forced 128 bits, nor where the JIT's vectors are 128 bits wide.
     */
    private static boolean quantizedProductsAreF32Products() {
        return io.jsteer.transformer.kernels.MatMul.maxBits() >= 256 && !"128".equals(System.getProperty("jsteer.vector.bits"));
    }

    /** Every block-format tensor decoded to float32 up front. */
    private record Decoded(WeightSource w) implements WeightSource {
        @Override
        public boolean has(String name) {
            return w.has(name);
        }

        @Override
        public Tensor tensor(String name) {
            Tensor t = w.tensor(name);
            return t.dtype() != DType.F32 ? Tensor.of(name, t.toFloatArray(), t.shape()) : t;
        }

        @Override
        public Set<String> names() {
            return w.names();
        }

        @Override
        public Path path() {
            return w.path();
        }

        @Override
        public void close() {
            w.close();
        }
    }

    /**
     * Batched decoding on quantized weights: three sequences advanced together (one stacked forward
     * call per step, as the server and the multi-prompt commands run them) get exactly the logits
     * each gets alone, on a Q8_0, a Q4_K_M (K-quants with Q5_0 fallback) and a Q4_0 file.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel.q8_0.gguf", "gemma2-tiny.q4_k_m.gguf", "pythia-tiny-parallel.q4_0.gguf", "qwen3-tiny.q4_k_m.gguf"})
    void batchedDecodingOnQuantizedWeightsIsEachSequenceAlone(String file) {
        Model m = Model.load(gguf(file));
        int[][] prompts = {{1, 5, 9, 200}, {7, 3}, {42, 17, 99, 250, 33, 8}};
        java.util.List<io.jsteer.transformer.State> batch = new java.util.ArrayList<>();
        for (int[] p : prompts) batch.add(m.newState());
        java.util.List<io.jsteer.transformer.State> alone = new java.util.ArrayList<>();
        for (int[] p : prompts) alone.add(m.newState());
        for (int step = 0; step < 4; step++) {
            java.util.List<Model.Step> steps = new java.util.ArrayList<>();
            for (int q = 0; q < prompts.length; q++) steps.add(new Model.Step(batch.get(q), step == 0 ? prompts[q] : new int[] {10 * step + q}, false));
            java.util.List<float[]> together = m.forward(steps);
            for (int q = 0; q < prompts.length; q++) {
                float[] single = m.forward(alone.get(q), step == 0 ? prompts[q] : new int[] {10 * step + q}, false);
                org.junit.jupiter.api.Assertions.assertArrayEquals(single, together.get(q), file + " sequence " + q + " step " + step);
            }
        }
    }
}
