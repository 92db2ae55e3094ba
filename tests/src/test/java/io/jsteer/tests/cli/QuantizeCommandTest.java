/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tests.Fixtures;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.Tensor;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code jsteer quantize} against llama.cpp's own converter: the file written from each Hugging Face
 * fixture folder (with the vocabulary of the committed GGUF file) has the same metadata and the same
 * tensors, byte for byte, as the file gguf-py wrote (fixtures-gguf/make_gguf.py, which mirrors
 * convert_hf_to_gguf.py); llama.cpp's logits on those files are in GgufLlamaCppTest.
 */
class QuantizeCommandTest {
    private static Path gguf(String file) {
        try {
            return Path.of(QuantizeCommandTest.class.getResource("/fixtures-gguf/" + file).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<Arguments> cases() {
        Stream<Arguments> f32 = Stream.of("pythia-tiny-parallel", "gemma-tiny", "gemma2-tiny", "gemma3-tiny", "llama2-tiny", "llama3-tiny", "mistral-tiny",
                "qwen2-tiny", "qwen3-tiny").map(m -> Arguments.of(m, "f32"));
        Stream<Arguments> q = Stream.of("pythia-tiny-parallel", "gemma-tiny", "gemma2-tiny", "gemma3-tiny", "llama2-tiny").map(m -> Arguments.of(m, "q8_0"));
        return Stream.concat(f32, Stream.concat(q, Stream.of(Arguments.of("pythia-tiny-parallel", "q4_0"))));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void writesWhatLlamaCppsConverterWrites(String model, String type, @TempDir Path tmp) {
        Path out = tmp.resolve("out.gguf");
        Cli.run("quantize", "-m", Fixtures.dir(model), "--tokenizer", gguf(model + ".f32.gguf"), "--type", type, "-o", out).ok();
        try (GgufFile got = GgufFile.read(out); GgufFile want = GgufFile.read(gguf(model + "." + type + ".gguf"))) {
            assertEquals(want.metadata(), got.metadata(), model + "." + type + " metadata");
            assertEquals(want.names(), got.names(), model + "." + type + " tensors");
            for (String name : want.names()) {
                Tensor a = want.tensor(name), b = got.tensor(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertArrayEquals(a.data().toArray(ValueLayout.JAVA_BYTE), b.data().toArray(ValueLayout.JAVA_BYTE), model + "." + type + " " + name);
            }
        }
    }

    @Test
    void refusesWhatItCannotDo(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out.gguf");
        Files.writeString(out, "old");
        Cli.Result r = Cli.run("quantize", "-m", Fixtures.dir("pythia-tiny-parallel"), "--type", "q8_0", "-o", out);
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("already exists; pass --force"), r.err());
        assertEquals("old", Files.readString(out));
        r = Cli.run("quantize", "-m", Fixtures.dir("pythia-tiny-parallel"), "--type", "q5_1", "-o", tmp.resolve("x.gguf"));
        assertTrue(r.err().contains("--type q5_1 is not a type; expected q8_0, q4_0, f16 or f32"), r.err());
        r = Cli.run("quantize", "-m", gguf("pythia-tiny-parallel.f32.gguf"), "--type", "q8_0", "-o", tmp.resolve("x.gguf"));
        assertTrue(r.err().contains("re-quantizing GGUF files is not supported"), r.err());
        // no tokenizer.json in the fixture folder: written without a vocabulary, said so, and jsteer still loads it
        r = Cli.run("quantize", "-m", Fixtures.dir("pythia-tiny-parallel"), "--type", "q8_0", "-o", out, "--force").ok();
        assertTrue(r.err().contains("no vocabulary written"), r.err());
        assertEquals(List.of(), Files.list(tmp).filter(p -> !p.equals(out)).toList(), "no temporary files left");
        Cli.run("logits", "-m", out, "--ids", "1,2,3", "--out", tmp.resolve("l.json")).ok();
        // llama3 rope scaling becomes llama's rope_freqs.weight; llama.cpp's qwen2 has no such tensor
        Path qwen = tmp.resolve("qwen2-llama3");
        Files.createDirectories(qwen);
        Files.copy(Fixtures.dir("qwen2-tiny").resolve("model.safetensors"), qwen.resolve("model.safetensors"));
        Files.writeString(qwen.resolve("config.json"), Files.readString(Fixtures.dir("qwen2-tiny").resolve("config.json")).replace("\"rope_scaling\": null",
                "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, "
                        + "\"original_max_position_embeddings\": 32}"));
        r = Cli.run("quantize", "-m", qwen, "--type", "f32", "-o", tmp.resolve("q.gguf"));
        assertTrue(r.err().contains(qwen + ": llama3 rope scaling can be written to GGUF for llama only (as rope_freqs.weight, which llama.cpp reads there), not qwen2"),
                r.err());
    }
}
