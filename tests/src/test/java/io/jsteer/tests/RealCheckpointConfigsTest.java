/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.ModelWeights;
import io.jsteer.transformer.blocks.Norm;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.weights.Activation;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.DType;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.RopeScaling;
import io.jsteer.weights.Tensor;
import io.jsteer.weights.WeightSource;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The config.json of real checkpoints (their published values, in
 * {@code tests/src/test/resources/real-configs}, named {@code owner--name.json}) parse to the
 * right shapes, norms and RoPE. No weights are needed: {@link ModelWeights} is run against a source
 * that hands out an empty tensor of whatever shape it asks for, and the tensors it asks for must add
 * up to the parameter count the checkpoint's model card publishes, which pins every projection's
 * shape, every bias, norm and the tied or untied unembedding.
 */
class RealCheckpointConfigsTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // file, architecture, layers, hidden, heads, kv heads, head dim, intermediate, vocab, tied, sliding layers, window, rope, theta, norm eps, activation, published parameters
        "EleutherAI--pythia-70m, GPT_NEOX, 6, 512, 8, 8, 64, 2048, 50304, false, 0, 0, NONE 1, 10000, 1e-5, GELU_ERF, 70426624",
        "EleutherAI--pythia-160m, GPT_NEOX, 12, 768, 12, 12, 64, 3072, 50304, false, 0, 0, NONE 1, 10000, 1e-5, GELU_ERF, 162322944",
        "EleutherAI--pythia-1b, GPT_NEOX, 16, 2048, 8, 8, 256, 8192, 50304, false, 0, 0, NONE 1, 10000, 1e-5, GELU_ERF, 1011781632",
        "google--gemma-2b, GEMMA, 18, 2048, 8, 1, 256, 16384, 256000, true, 0, 0, NONE 1, 10000, 1e-6, GELU_TANH, 2506172416",
        "google--gemma-2-2b, GEMMA2, 26, 2304, 8, 4, 256, 9216, 256000, true, 13, 4096, NONE 1, 10000, 1e-6, GELU_TANH, 2614341888",
        "google--gemma-2-9b, GEMMA2, 42, 3584, 16, 8, 256, 14336, 256000, true, 21, 4096, NONE 1, 10000, 1e-6, GELU_TANH, 9241705984",
        "google--gemma-3-1b-pt, GEMMA3, 26, 1152, 4, 1, 256, 6912, 262144, true, 22, 512, NONE 1, 1000000, 1e-6, GELU_TANH, 999885952",
        "meta-llama--Llama-3.2-1B, LLAMA, 16, 2048, 32, 8, 64, 8192, 128256, true, 0, 0, LLAMA3 32, 500000, 1e-5, SILU, 1235814400",
        "meta-llama--Llama-3.2-3B, LLAMA, 28, 3072, 24, 8, 128, 8192, 128256, true, 0, 0, LLAMA3 32, 500000, 1e-5, SILU, 3212749824",
        "meta-llama--Llama-3.1-8B, LLAMA, 32, 4096, 32, 8, 128, 14336, 128256, false, 0, 0, LLAMA3 8, 500000, 1e-5, SILU, 8030261248",
        "mistralai--Mistral-7B-v0.3, MISTRAL, 32, 4096, 32, 8, 128, 14336, 32768, false, 0, 0, NONE 1, 1000000, 1e-5, SILU, 7248023552",
        "Qwen--Qwen2.5-0.5B, QWEN2, 24, 896, 14, 2, 64, 4864, 151936, true, 0, 0, NONE 1, 1000000, 1e-6, SILU, 494032768",
        "Qwen--Qwen2.5-7B, QWEN2, 28, 3584, 28, 4, 128, 18944, 152064, false, 0, 0, NONE 1, 1000000, 1e-6, SILU, 7615616512",
        "Qwen--Qwen3-0.6B, QWEN3, 28, 1024, 16, 8, 128, 3072, 151936, true, 0, 0, NONE 1, 1000000, 1e-6, SILU, 596049920",
        "Qwen--Qwen3-8B, QWEN3, 36, 4096, 32, 8, 128, 12288, 151936, false, 0, 0, NONE 1, 1000000, 1e-6, SILU, 8190735360",
    })
    void configGivesTheCheckpointsShapes(String file, Architecture arch, int layers, int hidden, int heads, int kvHeads, int headDim, int intermediate,
            int vocab, boolean tied, int slidingLayers, int window, String rope, double theta, float eps, Activation act, long parameters)
            throws URISyntaxException {
        ModelConfig c = ModelConfig.load(Path.of(getClass().getResource("/real-configs/" + file + ".json").toURI()));
        assertEquals(arch, c.architecture());
        assertEquals(layers, c.numLayers());
        assertEquals(hidden, c.hiddenSize());
        assertEquals(heads, c.numHeads());
        assertEquals(kvHeads, c.numKvHeads());
        assertEquals(headDim, c.headDim());
        assertEquals(intermediate, c.intermediateSize());
        assertEquals(vocab, c.vocabSize());
        assertEquals(tied, c.tieWordEmbeddings());
        int sliding = 0;
        for (int l = 0; l < layers; l++) if (c.isSliding(l)) sliding++;
        assertEquals(slidingLayers, sliding);
        assertEquals(window, sliding == 0 ? 0 : c.slidingWindow());
        assertEquals(rope, c.ropeScaling().type() + " " + (int) c.ropeScaling().factor());
        assertEquals(theta, c.ropeTheta());
        assertEquals(eps, c.normEps());
        assertEquals(act, c.activation());
        assertEquals(arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3 ? (float) (1 / Math.sqrt(256)) : (float) (1 / Math.sqrt(headDim)),
                c.attentionScale());
        assertEquals(arch.isGemma() ? (float) Math.sqrt(hidden) : 1f, c.embeddingScale());

        ShapeRecorder source = new ShapeRecorder();
        ModelWeights w = ModelWeights.load(c, source);
        assertEquals(parameters, source.elements(), file + ": parameters of the tensors the loader asks for " + source.shapes);
        assertEquals(tied, w.lmHead() == w.embed());
        for (LayerWeights lw : w.layers()) {
            Norm n = lw.attnNorm();
            if (arch == Architecture.GPT_NEOX) {
                assertInstanceOf(Norm.LayerNorm.class, n);
            } else {
                // Gemma stores its RMSNorm scale as an offset from one, the others store it as is
                assertEquals(arch.isGemma() ? 1f : 0f, assertInstanceOf(Norm.RmsNorm.class, n).weightOffset());
                assertEquals(eps, ((Norm.RmsNorm) n).eps());
            }
            assertEquals(arch == Architecture.GEMMA3 || arch == Architecture.QWEN3, lw.qNorm() != null);
            assertEquals(arch == Architecture.QWEN2, lw.qBias() != null);
        }
    }

    /**
     * RoPE of Llama 3.1/3.2: the inverse frequencies {@link Rope} applies, read back as the angle it
     * turns each pair by at position 1, against Meta's {@code apply_scaling} (llama3 repository,
     * {@code model.py}) written out here in double.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"meta-llama--Llama-3.2-1B, 32", "meta-llama--Llama-3.1-8B, 8"})
    void llama3RopeScaling(String file, double factor) throws URISyntaxException {
        ModelConfig c = ModelConfig.load(Path.of(getClass().getResource("/real-configs/" + file + ".json").toURI()));
        assertEquals(new RopeScaling(RopeScaling.Type.LLAMA3, factor, 1, 4, 8192), c.ropeScaling(0));
        int dims = c.headDim(), half = dims / 2;
        Rope rope = new Rope(dims, c.ropeBase(0), c.ropeScaling(0));
        int kept = 0, scaled = 0, blended = 0;
        for (int i = 0; i < half; i++) {
            float[] x = new float[dims];
            x[i] = 1;
            rope.apply(x, 0, 1, dims, 1);
            double angle = Math.atan2(x[i + half], x[i]);
            double freq = 1 / Math.pow(500000, 2.0 * i / dims), wavelen = 2 * Math.PI / freq, expected;
            if (wavelen < 8192 / 4.0) {
                expected = freq;
                kept++;
            } else if (wavelen > 8192 / 1.0) {
                expected = freq / factor;
                scaled++;
            } else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                expected = (1 - smooth) * freq / factor + smooth * freq;
                blended++;
            }
            assertEquals(expected, angle, 1e-6 * expected, file + ": frequency " + i);
        }
        assertTrue(kept > 0 && scaled > 0 && blended > 0, kept + " kept, " + scaled + " scaled, " + blended + " blended");
    }

    /** Hands out an empty tensor of any requested shape (zeros for vectors, no data for matrices) and counts elements. */
    private static final class ShapeRecorder implements WeightSource {
        final Map<String, long[]> shapes = new LinkedHashMap<>();

        long elements() {
            long n = 0;
            for (long[] s : shapes.values()) {
                long e = 1;
                for (long d : s) e *= d;
                n += e;
            }
            return n;
        }

        @Override
        public Tensor expectShape(String name, long... shape) {
            if (shapes.put(name, shape) != null) throw new AssertionError(name + " asked for twice");
            long n = shape.length == 1 ? shape[0] : 0;
            return new Tensor(name, DType.F32, shape, shape.length == 1 ? MemorySegment.ofArray(new float[(int) n]) : MemorySegment.NULL);
        }

        @Override
        public boolean has(String name) {
            return true;
        }

        @Override
        public Tensor tensor(String name) {
            throw new AssertionError("the loader asks for tensors with their shapes");
        }

        @Override
        public Set<String> names() {
            return shapes.keySet();
        }

        @Override
        public Path path() {
            return Path.of("shapes");
        }

        @Override
        public void close() {}
    }
}
