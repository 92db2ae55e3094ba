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

/** Help everywhere; failures as one line on stderr with a nonzero exit and no output file left behind. */
class ErrorsAndHelpTest {
    static final Path MODEL = Fixtures.dir("pythia-tiny-parallel");

    @ParameterizedTest
    @ValueSource(strings = {"logits", "generate", "vector", "apply", "sweep", "eval", "export", "inspect", "lens", "patch", "dla", "attention", "demo"})
    void everySubcommandHasHelp(String name) {
        Cli.Result r = Cli.run(name, "--help").ok();
        assertTrue(r.out().startsWith("Usage: jsteer " + name), r.out());
        assertTrue(r.err().isEmpty(), r.err());
    }

    @Test
    void topLevelHelpListsTheSubcommandsAndAMissingSubcommandIsAUsageError() {
        Cli.Result r = Cli.run("--help").ok();
        for (String name : List.of("logits", "generate", "vector", "apply", "sweep", "eval", "export", "inspect", "lens", "patch", "dla", "attention", "demo")) {
            assertTrue(r.out().contains("  " + name + " "), name + " missing from\n" + r.out());
        }
        assertEquals(2, Cli.run().exit());
        Cli.Result bad = Cli.run("nonsense");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("nonsense"), bad.err());
    }

    /** Exactly one line on stderr, naming the subcommand, without a stack trace. */
    private static String oneLineError(Cli.Result r, String command) {
        assertEquals(1, r.exit(), r.err());
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), "expected one line:\n" + r.err());
        assertTrue(lines.getFirst().startsWith("jsteer " + command + ": error: "), lines.getFirst());
        return lines.getFirst();
    }

    @Test
    void missingModelFolderIsOneLineAndVerboseAddsTheStackTrace() {
        String line = oneLineError(Cli.run("generate", "--model", "/no/such/model", "--ids", "1"), "generate");
        assertTrue(line.contains("/no/such/model") && line.contains("does not exist"), line);
        Cli.Result verbose = Cli.run("generate", "--model", "/no/such/model", "--ids", "1", "--verbose");
        assertEquals(1, verbose.exit());
        assertTrue(verbose.err().contains("\tat io.jsteer."), verbose.err());
    }

    @Test
    void badOptionValuesAreUsageErrors() {
        Cli.Result r = Cli.run("generate", "--model", MODEL, "--ids", "1", "-n", "many");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("'many'") && r.err().contains("jsteer generate --help"), r.err());
        assertEquals(2, Cli.run("logits", "--model", MODEL, "--ids", "1").exit(), "--out is required");
    }

    @Test
    void outOfVocabularyIdFailsWithoutWritingTheOutput(@TempDir Path tmp) {
        Path out = tmp.resolve("logits.json");
        String line = oneLineError(Cli.run("logits", "--model", MODEL, "--ids", "1,2,512", "-o", out), "logits");
        assertTrue(line.contains("512") && line.contains("[0, 512)"), line);
        assertEquals(List.of(), Cli.strayFiles(tmp));
    }

    @Test
    void badSamplingSettingsFailBeforeAnythingIsPrinted() {
        Cli.Result r = Cli.run("generate", "--model", MODEL, "--ids", "1", "-t", "1", "--top-p", "2");
        assertTrue(oneLineError(r, "generate").contains("top-p must be in (0, 1]"));
        assertTrue(r.out().isEmpty(), r.out());
    }

    @Test
    void methodSpecErrorsNameTheMethodAndTheChoices(@TempDir Path tmp) {
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": [1, 2], \"negative\": [3, 4]}\n");
        Path out = tmp.resolve("v.safetensors");
        assertTrue(oneLineError(Cli.run("vector", "--model", MODEL, "--method", "telepathy", "--contrast", pairs, "-o", out), "vector")
                .contains("known: caa, actadd"));
        assertTrue(oneLineError(Cli.run("vector", "--model", MODEL, "--method", "caa:layer=1,strength=3", "--contrast", pairs, "-o", out), "vector")
                .contains("method caa has no parameter 'strength'"));
        assertTrue(oneLineError(Cli.run("vector", "--model", MODEL, "--method", "caa:layer=9", "--contrast", pairs, "-o", out), "vector")
                .contains("layer 9 is out of range"));
        assertTrue(oneLineError(Cli.run("vector", "--model", MODEL, "--method", "ablation:layer=1", "--contrast", pairs, "-o", out), "vector")
                .contains("does not add one fixed vector"));
        assertEquals(List.of("c.jsonl"), Cli.strayFiles(tmp));
    }

    @Test
    void badInputFilesAreNamedWithTheirLine(@TempDir Path tmp) throws IOException {
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": [1, 2], \"negative\": [3, 4]}\n{\"positive\": [1, 2]\n");
        String line = oneLineError(Cli.run("vector", "--model", MODEL, "--method", "caa", "--contrast", pairs, "-o", tmp.resolve("v.safetensors")), "vector");
        assertTrue(line.contains(pairs + " line 2"), line);

        Path notVector = Cli.write(tmp.resolve("v.safetensors"), "not a safetensors file");
        line = oneLineError(Cli.run("generate", "--model", MODEL, "--ids", "1", "--vector", notVector), "generate");
        assertTrue(line.contains(notVector.toString()), line);

        line = oneLineError(Cli.run("apply", "--model", MODEL, "--prompts", tmp.resolve("none.txt"), "--vector", notVector, "-o", tmp.resolve("o.jsonl")), "apply");
        assertTrue(line.contains("no such file") && line.contains("none.txt"), line);
    }

    @Test
    void anOutputThatCannotBeWrittenLeavesNothingBehind(@TempDir Path tmp) throws IOException {
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": [1, 2], \"negative\": [3, 4]}\n");
        Path blocker = Cli.write(tmp.resolve("blocker"), "a file where a directory should be");
        String line = oneLineError(Cli.run("vector", "--model", MODEL, "--method", "caa:layer=1", "--contrast", pairs, "-o", blocker.resolve("v.safetensors")), "vector");
        assertTrue(line.contains("blocker"), line);
        line = oneLineError(Cli.run("logits", "--model", MODEL, "--ids", "1", "-o", blocker.resolve("sub").resolve("l.json")), "logits");
        assertTrue(line.contains("blocker"), line);
        assertEquals(List.of("blocker", "c.jsonl"), Cli.strayFiles(tmp));
        assertFalse(Files.isDirectory(blocker));
    }

    @Test
    void commandsThatNeedSteeringSaySo(@TempDir Path tmp) {
        Path prompts = Cli.write(tmp.resolve("p.jsonl"), "[1, 2, 3]\n");
        assertTrue(oneLineError(Cli.run("apply", "--model", MODEL, "--prompts", prompts, "-o", tmp.resolve("o.jsonl")), "apply").contains("--vector"));
        assertTrue(oneLineError(Cli.run("generate", "--model", MODEL, "--ids", "1", "--method", "caa"), "generate").contains("contrast prompts"));
        assertTrue(oneLineError(Cli.run("generate", "--model", MODEL, "-p", "hello"), "generate").contains("no tokenizer.json"));
    }
}
