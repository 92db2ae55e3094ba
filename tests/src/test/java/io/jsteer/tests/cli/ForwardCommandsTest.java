/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.tests.Fixtures;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code jsteer logits} and greedy {@code jsteer generate} against the Hugging Face reference outputs of every fixture. */
class ForwardCommandsTest {
    static final double TOLERANCE = 1e-4;

    static Stream<String> models() {
        return Stream.of("pythia-tiny-parallel", "pythia-tiny-sequential", "gemma-tiny", "gemma-tiny-bf16", "gemma-tiny-fp16", "gemma2-tiny", "gemma3-tiny");
    }

    @ParameterizedTest
    @MethodSource("models")
    void logitsAndBlockOutputsMatchTheReference(String name, @TempDir Path tmp) {
        Path dir = Fixtures.dir(name);
        for (JsonNode input : Fixtures.json(dir.resolve("reference.json")).get("inputs")) {
            Path out = tmp.resolve(input.get("name").asText() + ".json");
            Cli.Result r = Cli.run("logits", "--model", dir, "--ids", Cli.ids(input.get("input_ids")), "--out", out).ok();
            assertTrue(r.out().contains("wrote " + out), r.out());
            JsonNode got = Fixtures.json(out);
            assertArrayEquals(Fixtures.ints(input.get("input_ids")), Fixtures.ints(got.get("input_ids")));
            double err = Cli.relativeError(Fixtures.floats(got.get("logits")), Fixtures.floats(input.get("logits")));
            assertTrue(err <= TOLERANCE, name + " " + input.get("name") + ": logits error " + err);
            JsonNode blocks = input.get("block_outputs");
            assertEquals(blocks.size(), got.get("block_outputs").size());
            for (int l = 0; l < blocks.size(); l++) {
                double berr = Cli.relativeError(Fixtures.floats(got.get("block_outputs").get(l)), Fixtures.floats(blocks.get(l)));
                assertTrue(berr <= TOLERANCE, name + " block " + l + ": error " + berr);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void greedyGenerationMatchesTheReference(String name, @TempDir Path tmp) {
        Path dir = Fixtures.dir(name);
        for (JsonNode g : Fixtures.json(dir.resolve("reference.json")).get("generation")) {
            Path out = tmp.resolve("gen.json");
            Cli.run("generate", "--model", dir, "--ids", Cli.ids(g.get("prompt_ids")), "-n", g.get("max_new_tokens").asInt(),
                    "--ignore-eos", "--out", out, "--force").ok();
            assertArrayEquals(Fixtures.ints(g.get("new_ids")), Fixtures.ints(Fixtures.json(out).get("continuation_ids")), name);
        }
    }
}
