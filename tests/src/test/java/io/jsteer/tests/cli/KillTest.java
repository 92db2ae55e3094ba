/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.Main;
import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} in the middle of {@code apply} and {@code sweep}, in a separate JVM: no output
 * appears half-written or mixed with an older one, {@code apply --resume} finishes with exactly
 * what an uninterrupted run writes, and the next run removes what the killed one left.
 */
class KillTest {
    static final Path MODEL = Fixtures.dir("pythia-tiny-parallel");

    @TempDir
    Path tmp;

    /** Starts jsteer in a child JVM with this test's class path. */
    private static Process start(Path dir, Object... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-Djsteer.cache=" + System.getProperty("jsteer.cache"), "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        for (Object a : args) cmd.add(a.toString());
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
    }

    /** Waits (at most 60 s) until {@code ready} holds or the process ends; then kills it with SIGKILL. */
    private static boolean killWhen(Process p, java.util.function.BooleanSupplier ready) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!ready.getAsBoolean() && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(1);
        boolean killedMidRun = p.isAlive();
        p.destroyForcibly(); // SIGKILL on Unix: no shutdown hooks, no finally blocks
        p.waitFor();
        return killedMidRun;
    }

    private static long lines(Path file) {
        try {
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8).chars().filter(c -> c == '\n').count() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private Object[] apply(Path prompts, Path pairs, Path out, Object... more) {
        List<Object> a = new ArrayList<>(List.of("apply", "-m", MODEL, "--prompts", prompts, "--method", "caa:layer=1,coeff=4", "--contrast", pairs,
                "-n", 24, "--ignore-eos", "-o", out));
        a.addAll(List.of(more));
        return a.toArray();
    }

    @Test
    void applyKilledMidRunResumesToWhatAnUninterruptedRunWrites() throws Exception {
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < 300; i++) p.append("[").append(1 + i % 400).append(", ").append(7 + i % 13).append(", 3]\n");
        Path prompts = Cli.write(tmp.resolve("prompts.jsonl"), p.toString());
        Path pairs = Cli.write(tmp.resolve("c.jsonl"), "{\"positive\": [1, 2, 3], \"negative\": [3, 4, 5]}\n{\"positive\": [9, 2], \"negative\": [8, 4]}\n");
        Path reference = tmp.resolve("reference.jsonl");
        Cli.run(apply(prompts, pairs, reference)).ok();
        assertEquals(300, lines(reference));

        Path out = tmp.resolve("out.jsonl"), partial = tmp.resolve("out.jsonl.partial");
        Process child = start(tmp, apply(prompts, pairs, out));
        assertTrue(killWhen(child, () -> lines(partial) >= 3), "the run was still going when killed: " + lines(partial) + " rows");
        assertFalse(Files.exists(out), "the output appears only when complete");
        long kept = lines(partial);
        assertTrue(kept >= 3 && kept < 300, kept + " rows");

        assertTrue(Cli.run(apply(prompts, pairs, out)).err().contains("pass --resume to continue it or --force to start over"));
        // rows of a batched run finish in any order, and the kill may cut the last one mid-write
        String complete = Files.readString(partial);
        List<String> rows = new ArrayList<>(complete.substring(0, complete.lastIndexOf('\n') + 1).lines().toList());
        java.util.Collections.swap(rows, 0, 1);
        String halfRow = rows.get(2).substring(0, 20);
        Files.writeString(partial, String.join("\n", rows) + "\n" + halfRow);
        // a partial file of other settings is not continued
        Path other = tmp.resolve("other.jsonl");
        Files.writeString(tmp.resolve("other.jsonl.partial"), rows.get(0).replace("\"run\":\"apply ", "\"run\":\"apply -c 5 ") + "\n");
        Cli.Result refused = Cli.run(apply(prompts, pairs, other, "--resume"));
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("other.jsonl.partial line 1 was made by"), refused.err());

        Cli.Result resumed = Cli.run(apply(prompts, pairs, out, "--resume")).ok();
        assertTrue(resumed.err().contains("resuming: " + rows.size() + " of 300 prompts already done"), resumed.err());
        assertEquals(Files.readString(reference), Files.readString(out));
        assertFalse(Files.exists(partial));
    }

    @Test
    void sweepKilledMidRunLeavesTheOldFolderOrTheNewOneNeverAMix() throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Path pairs = Cli.write(data.resolve("c.jsonl"), "{\"positive\": \"The bride and the groom danced\", \"negative\": \"The soldiers fought the battle\"}\n");
        Path prompts = Cli.write(data.resolve("p.txt"), "The old man walked to the\nIn the morning the village\n");
        Path out = tmp.resolve("sweep");
        Files.createDirectories(out);
        Cli.write(out.resolve("old.csv"), "an older sweep");
        Object[] sweep = {"sweep", "--method", "caa", "--contrast", pairs, "--layers", "1,2,3", "--coeffs", "-4,-2,2,4,6", "--eval-prompts", prompts,
                "--target-words", "love,wedding", "--heldout", prompts, "--eval-tokens", 6, "--examples", 2, "-n", 6, "-o", out, "--force"};
        Process child = start(tmp, sweep);
        killWhen(child, () -> siblings(out).findAny().isPresent());
        try (Stream<Path> s = Files.list(out)) {
            List<String> names = s.map(f -> f.getFileName().toString()).sorted().toList();
            assertTrue(names.equals(List.of("old.csv")) || (names.contains("sweep.csv") && names.contains("report.html") && !names.contains("old.csv")),
                    names.toString());
        }
        Cli.run(sweep).ok();
        assertFalse(Files.exists(out.resolve("old.csv")));
        assertEquals(0, siblings(out).count(), "the killed run's temporary folder is removed by the next run");
    }

    private static Stream<Path> siblings(Path dir) {
        try (Stream<Path> s = Files.list(dir.getParent())) {
            return s.filter(f -> f.getFileName().toString().startsWith("." + dir.getFileName() + ".")).toList().stream();
        } catch (IOException e) {
            return Stream.empty();
        }
    }
}
