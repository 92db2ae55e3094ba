/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.defaultmodel.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-prompt commands write the same bytes for every {@code --batch-size}: a sequence's
 * results do not depend on what shares its batch, and every reduction over prompts runs in prompt
 * order. Each command runs at batch sizes 1, 3 and 8 on the built-in default model and every
 * output file is compared byte for byte.
 */
class BatchSizeOutputsTest {
    static Path data;

    @BeforeAll
    static void inputs(@TempDir Path tmp) {
        data = tmp;
        StringBuilder prompts = new StringBuilder();
        String[] starts = {"The old man walked to the", "In the morning the village", "She looked at the", "The soldiers marched to the",
                "At the wedding the", "The children ran down the road to the", "He", "When the war was over the people of the town"};
        for (String s : starts) prompts.append(s).append('\n');
        Cli.write(tmp.resolve("prompts.txt"), prompts.toString());
        Cli.write(tmp.resolve("heldout.txt"), "The farmers walked out to the fields in the morning.\nThe children ran down the road to the school.\n"
                + "A man and a woman sat by the river and talked of the old days.\n");
        Cli.write(tmp.resolve("contrast.jsonl"), """
                {"positive": "The bride and the groom danced at the wedding", "negative": "The soldiers and the captain fought in the battle"}
                {"positive": "She kissed him and gave him her heart", "negative": "He shot the enemy and left him dead"}
                {"positive": "Their love was sweet and full of joy", "negative": "Their war was long and full of fear"}
                {"positive": "love", "negative": "The army and the guns and the soldiers of the long and terrible war"}
                """);
        DefaultModel.ensure(DefaultModel.defaultDirectory());
    }

    private static List<Object> evaluation() {
        return List.of("--eval-prompts", data.resolve("prompts.txt"), "--target-name", "love", "--target-words", String.join(",", Topics.LOVE),
                "--spillover", "war=" + String.join(",", Topics.WAR), "--heldout", data.resolve("heldout.txt"), "--eval-tokens", 6);
    }

    /** Runs {@code args} with {@code --batch-size} 1, 3 and 8 and returns each run's output path (from {@code out}). */
    private static List<Path> atEveryBatchSize(Path tmp, String name, List<Object> args) {
        List<Path> outs = new ArrayList<>();
        for (int batch : new int[] {1, 3, 8}) {
            Path out = tmp.resolve(batch + "-" + name);
            List<Object> all = new ArrayList<>(args);
            all.addAll(List.of("--batch-size", batch, "-o", out));
            Cli.run(all.toArray()).ok();
            outs.add(out);
        }
        return outs;
    }

    private static void assertSameBytes(List<Path> outs) throws IOException {
        Path first = outs.getFirst();
        if (Files.isDirectory(first)) {
            List<String> names = Cli.strayFiles(first);
            assertTrue(!names.isEmpty());
            for (Path other : outs.subList(1, outs.size())) {
                assertEquals(names, Cli.strayFiles(other), other.toString());
                for (String n : names) assertArrayEquals(Files.readAllBytes(first.resolve(n)), Files.readAllBytes(other.resolve(n)), other + "/" + n);
            }
            return;
        }
        for (Path other : outs.subList(1, outs.size())) assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(other), other.toString());
    }

    @Test
    void vectorFilesAreTheSame(@TempDir Path tmp) throws IOException {
        for (String method : new String[] {"caa:layer=2", "whitened-sparse-mean-diff:layer=2,k=8", "sparse-mean-diff:layer=1,k=16", "caa:layer=1,readout=all"}) {
            String name = method.replace(":", "-").replace(",", "-").replace("=", "") + ".safetensors";
            assertSameBytes(atEveryBatchSize(tmp, name, List.of("vector", "--method", method, "--contrast", data.resolve("contrast.jsonl"))));
        }
    }

    @Test
    void evalSweepApplyAndInspectOutputsAreTheSame(@TempDir Path tmp) throws IOException {
        Path vector = tmp.resolve("caa.safetensors");
        Cli.run("vector", "--method", "caa:layer=2", "--contrast", data.resolve("contrast.jsonl"), "-o", vector).ok();

        List<Object> eval = new ArrayList<>(List.of("eval", "--vector", vector, "-c", 3));
        eval.addAll(evaluation());
        assertSameBytes(atEveryBatchSize(tmp, "eval.json", eval));

        List<Object> sweep = new ArrayList<>(List.of("sweep", "--method", "caa", "--contrast", data.resolve("contrast.jsonl"), "--layers", "1,2",
                "--coeffs", "-2,2,4", "--examples", 2, "-n", 8, "-t", 0.8, "--seed", 3));
        sweep.addAll(evaluation());
        assertSameBytes(atEveryBatchSize(tmp, "sweep-dir", sweep));

        assertSameBytes(atEveryBatchSize(tmp, "apply.jsonl", List.of("apply", "--vector", vector, "-c", 3, "--prompts", data.resolve("prompts.txt"),
                "--with-unsteered", "-n", 10, "-t", 0.9, "--seed", 11)));

        // methods fitted and applied in one go: SARA keeps per-sequence history, ACE projects per row
        for (String method : new String[] {"sara:layer=2,coeff=2", "ace:layer=2"}) {
            assertSameBytes(atEveryBatchSize(tmp, method.substring(0, method.indexOf(':')) + ".jsonl", List.of("apply", "--method", method,
                    "--contrast", data.resolve("contrast.jsonl"), "--prompts", data.resolve("prompts.txt"), "-n", 8)));
        }

        assertSameBytes(atEveryBatchSize(tmp, "inspect.json", List.of("inspect", "--vector", vector, "--prompts", data.resolve("prompts.txt"))));
    }

    @Test
    void aBatchSizeOutOfRangeIsRefusedBeforeAnyWork(@TempDir Path tmp) {
        for (int bad : new int[] {0, -3, 100000}) {
            Path out = tmp.resolve("apply-" + bad + ".jsonl");
            Cli.Result r = Cli.run("apply", "--vector", "x.safetensors", "--prompts", data.resolve("prompts.txt"), "--batch-size", bad, "-o", out);
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("--batch-size: batch size must be between 1 and"), r.err());
            assertTrue(!Files.exists(out));
        }
    }

    @Test
    void aBadPromptNamesItsLineAndLosesNoneOfTheOthers(@TempDir Path tmp) throws IOException {
        Path vector = tmp.resolve("caa.safetensors");
        Cli.run("vector", "--method", "caa:layer=2", "--contrast", data.resolve("contrast.jsonl"), "-o", vector).ok();
        Path file = Cli.write(tmp.resolve("prompts.jsonl"), "\"The old man walked to the\"\n\n[1, 99999999]\n{\"prompt\": \"She looked at the\"}\n");
        List<byte[]> outputs = new ArrayList<>();
        for (int batch : new int[] {1, 3}) {
            Path out = tmp.resolve(batch + "-apply.jsonl");
            Cli.Result r = Cli.run("apply", "--vector", vector, "-c", 3, "--prompts", file, "-n", 6, "--batch-size", batch, "-o", out);
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(file + " line 3 ([1, 99999999])") && r.err().contains("1 of 3 prompts failed"), r.err());
            List<String> rows = Files.readAllLines(out);
            assertEquals(3, rows.size());
            assertTrue(rows.get(0).contains("\"steered\"") && rows.get(2).contains("\"steered\""), rows.toString());
            assertTrue(rows.get(1).contains("\"line\":3") && rows.get(1).contains("\"error\""), rows.get(1));
            outputs.add(Files.readAllBytes(out));
        }
        assertArrayEquals(outputs.get(0), outputs.get(1));
    }
}
