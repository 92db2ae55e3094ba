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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code jsteer logits} and greedy {@code jsteer generate} against the Hugging Face reference outputs of every fixture. */
class ForwardCommandsTest {
    static final double TOLERANCE = 1e-4;

    static Stream<String> models() {
        return Fixtures.models();
    }

    /** {@code --hooks all} writes every hook point HF recorded (resid_mid only for sequential blocks), each matching it. */
    @ParameterizedTest
    @MethodSource("models")
    void logitsWritesEveryHookPoint(String name, @TempDir Path tmp) {
        Path dir = Fixtures.dir(name);
        JsonNode input = Fixtures.json(dir.resolve("reference.json")).get("inputs").get(1);
        Path out = tmp.resolve("hooks.json");
        Cli.Result r = Cli.run("logits", "--model", dir, "--ids", Cli.ids(input.get("input_ids")), "--hooks", "all", "--out", out).ok();
        JsonNode want = input.get("hooks"), got = Fixtures.json(out).get("hooks");
        assertTrue(r.out().contains(want.size() + " hook points"), r.out());
        List<String> names = new ArrayList<>();
        want.fieldNames().forEachRemaining(names::add);
        List<String> written = new ArrayList<>();
        got.fieldNames().forEachRemaining(written::add);
        assertEquals(names, written);
        for (String hook : names) {
            double err = Cli.relativeError(Fixtures.floats(got.get(hook)), Fixtures.floats(want.get(hook)));
            assertTrue(err <= TOLERANCE, name + " " + hook + ": error " + err);
        }
    }

    @Test
    void logitsWritesTheNamedHookPointsOnly(@TempDir Path tmp) {
        Path dir = Fixtures.dir("llama3-tiny");
        Path out = tmp.resolve("two.json");
        Cli.run("logits", "--model", dir, "--ids", "5,6,7", "--hooks", "blocks.0.hook_attn_out, 2.mlp_out", "--out", out).ok();
        List<String> written = new ArrayList<>();
        Fixtures.json(out).get("hooks").fieldNames().forEachRemaining(written::add);
        assertEquals(List.of("blocks.0.hook_attn_out", "blocks.2.hook_mlp_out"), written);
        assertEquals(3, Fixtures.json(out).get("hooks").get("blocks.2.hook_mlp_out").size());
        Cli.Result bad = Cli.run("logits", "--model", Fixtures.dir("pythia-tiny-parallel"), "--ids", "5", "--hooks", "blocks.0.hook_resid_mid",
                "--out", tmp.resolve("x.json"));
        assertTrue(bad.err().contains("blocks.0.hook_resid_mid does not exist: this model's blocks use a parallel residual"), bad.err());
        assertTrue(!Files.exists(tmp.resolve("x.json")));
        bad = Cli.run("logits", "--model", dir, "--ids", "5", "--hooks", "blocks.9.hook_attn_out", "--out", tmp.resolve("x.json"));
        assertTrue(bad.err().contains("blocks.9.hook_attn_out is out of range: the model has blocks 0..3"), bad.err());
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
