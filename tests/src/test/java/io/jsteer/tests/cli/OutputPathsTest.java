/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One rule for every output path, checked before the model is even loaded: a missing or
 * unwritable parent folder, a path of the wrong kind, or an existing output without --force is
 * refused; nothing is written or computed first.
 */
class OutputPathsTest {
    static final Path MODEL = Fixtures.dir("pythia-tiny-parallel");
    /** A model that does not exist: an output error must come first, before any loading. */
    static final String NO_MODEL = "/no/such/model";

    @TempDir
    Path tmp;

    private static String error(Cli.Result r) {
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        return r.err();
    }

    /** Every file-writing command, as arguments before its output option. */
    private List<Object> command(String name) {
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": [1, 2], \"negative\": [3, 4]}\n");
        Path prompts = Cli.write(tmp.resolve("p.jsonl"), "[1, 2, 3]\n");
        return switch (name) {
            case "logits" -> List.of("logits", "-m", NO_MODEL, "--ids", "1");
            case "generate" -> List.of("generate", "-m", NO_MODEL, "--ids", "1");
            case "vector" -> List.of("vector", "-m", NO_MODEL, "--method", "caa:layer=1", "--contrast", pairs);
            case "apply" -> List.of("apply", "-m", NO_MODEL, "--prompts", prompts, "--vector", pairs);
            case "eval" -> List.of("eval", "-m", NO_MODEL, "--vector", pairs, "--eval-prompts", prompts, "--target-words", "a", "--heldout", prompts);
            case "inspect" -> List.of("inspect", "-m", NO_MODEL, "--ids", "1");
            case "export" -> List.of("export", "-m", NO_MODEL, "--vector", pairs, "--gguf");
            default -> throw new IllegalArgumentException(name);
        };
    }

    private Cli.Result run(String name, Object... tail) {
        List<Object> a = new java.util.ArrayList<>(command(name));
        if (!name.equals("export")) a.add("-o");
        a.addAll(List.of(tail));
        return Cli.run(a.toArray());
    }

    @ParameterizedTest
    @ValueSource(strings = {"logits", "generate", "vector", "apply", "eval", "inspect", "export"})
    void everyFileOutputFollowsTheRule(String name) throws IOException {
        Path existing = Cli.write(tmp.resolve("existing.out"), "keep me");
        assertTrue(error(run(name, existing)).contains("existing.out already exists; pass --force to overwrite it"));
        assertEquals("keep me", Files.readString(existing));
        assertTrue(error(run(name, tmp.resolve("missing").resolve("x.out"))).contains("missing does not exist"));
        assertTrue(error(run(name, tmp)).contains("is a folder; give a file name"));
        // with --force the output is accepted, so the next problem is the missing model
        assertTrue(error(run(name, existing, "--force")).contains(NO_MODEL));
        assertEquals("keep me", Files.readString(existing), "a failed run leaves the old output");
    }

    @Test
    void folderOutputsFollowTheSameRule() throws IOException {
        Path full = Files.createDirectories(tmp.resolve("full"));
        Cli.write(full.resolve("old.csv"), "old");
        Path notDir = Cli.write(tmp.resolve("file"), "x");
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": [1, 2], \"negative\": [3, 4]}\n");
        Object[] sweep = {"sweep", "-m", NO_MODEL, "--method", "caa", "--contrast", pairs, "--layers", "1", "--coeffs", "1",
                "--eval-prompts", pairs, "--target-words", "a", "--heldout", pairs, "-o"};
        assertTrue(error(Cli.run(concat(sweep, full))).contains("full already exists and is not empty; pass --force to replace it"));
        assertTrue(error(Cli.run(concat(sweep, notDir))).contains("is a file; give a folder name"));
        assertTrue(error(Cli.run("demo", "-o", full)).contains("pass --force"));
        assertTrue(error(Cli.run("export", "-m", NO_MODEL, "--vector", pairs, "--lora", full)).contains("pass --force"));
        assertTrue(error(Cli.run(concat(sweep, Files.createDirectories(tmp.resolve("empty"))))).contains(NO_MODEL), "an empty folder is fine");
        assertTrue(error(Cli.run(concat(sweep, Path.of(""), "--force"))).contains("holds the working folder"));
    }

    @Test
    void forceReplacesASweepFolderWhole() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("sweep"));
        Cli.write(out.resolve("stale-plot.png"), "from an older sweep");
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": \"the bride and the groom\", \"negative\": \"the soldiers and the army\"}\n");
        Path prompts = Cli.write(tmp.resolve("p.jsonl"), "\"The old man walked to the\"\n");
        Cli.run("sweep", "--method", "caa", "--contrast", pairs, "--layers", "1", "--coeffs", "1", "--eval-prompts", prompts,
                "--target-words", "love", "--heldout", prompts, "--eval-tokens", 4, "--examples", 0, "-o", out, "--force").ok();
        assertFalse(Files.exists(out.resolve("stale-plot.png")), "the old folder is replaced, not mixed with the new files");
        assertTrue(Files.exists(out.resolve("sweep.csv")));
        assertEquals(List.of("c.jsonl", "p.jsonl", "sweep"), Cli.strayFiles(tmp), "no temporary sibling left");
    }

    @Test
    void temporaryFilesOfKilledRunsAreRemovedByTheNextWrite() throws IOException {
        Path out = tmp.resolve("l.json");
        // a pid above Linux's pid_max (2^22) belongs to no running process
        Path stale = Cli.write(tmp.resolve(".l.json.99999999.1f2e.tmp"), "half a file");
        Path otherTarget = Cli.write(tmp.resolve(".other.json.99999999.1f2e.tmp"), "not ours");
        Path live = Cli.write(tmp.resolve(".l.json." + ProcessHandle.current().pid() + ".abc.tmp"), "a running writer's");
        Cli.run("logits", "-m", MODEL, "--ids", "1,2", "-o", out).ok();
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(otherTarget) && Files.exists(live));
    }

    private static Object[] concat(Object[] a, Object... b) {
        Object[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
