/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code -m FILE.gguf} with no tokenizer.json: text goes through the vocabulary embedded in the file. */
class GgufModelFileTest {
    private static Path gguf(String file) {
        try {
            return Path.of(GgufModelFileTest.class.getResource("/fixtures-gguf/" + file).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The prompt is tokenized as llama.cpp tokenizes it with the same file (fixtures-gguf/tokens.tsv). */
    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel.f32.gguf", "gemma2-tiny.f32.gguf", "qwen3-tiny.f32.gguf"})
    void textCommandsUseTheEmbeddedVocabulary(String file, @TempDir Path tmp) throws IOException {
        String llamaCppIds = Files.readAllLines(gguf("tokens.tsv")).stream()
                .filter(l -> l.startsWith(file + "\t\"Hello world, the steering vector!\"")).findFirst().orElseThrow().split("\t")[2];
        Path model = tmp.resolve(file);
        Files.copy(gguf(file), model);
        Path out = tmp.resolve("gen.json");
        Cli.run("generate", "--model", model, "--prompt", "Hello world, the steering vector!", "-n", 3, "--ignore-eos", "--out", out).ok();
        int[] want = java.util.Arrays.stream(llamaCppIds.split(",")).mapToInt(Integer::parseInt).toArray();
        assertArrayEquals(want, Fixtures.ints(Fixtures.json(out).get("prompt_ids")));
        assertEquals(3, Fixtures.json(out).get("continuation_ids").size());
    }

    @Test
    void anUnsupportedEmbeddedVocabularyIsNamed(@TempDir Path tmp) throws IOException {
        // pre-tokenizer 'gpt-2' renamed in place to one jsteer does not map ('gpt-3' has the same length)
        byte[] bytes = Files.readAllBytes(gguf("pythia-tiny-parallel.f32.gguf"));
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("gpt-2");
        assertTrue(at > 0);
        bytes[at + 4] = '3';
        Path model = tmp.resolve("m.gguf");
        Files.write(model, bytes);
        Cli.Result r = Cli.run("generate", "--model", model, "--prompt", "Hello", "-n", 1);
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("the vocabulary embedded in " + model + ": tokenizer.ggml.pre: pre-tokenizer 'gpt-3' is not supported"), r.err());
        assertTrue(r.err().contains("pass --tokenizer FILE"), r.err());
    }
}
