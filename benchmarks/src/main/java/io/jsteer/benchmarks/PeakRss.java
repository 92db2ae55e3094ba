/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.weights.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Peak resident memory of a whole generation, to run in a JVM of its own: load, read a prompt,
 * decode, then read the kernel's high-water mark ({@code VmHWM} in {@code /proc/self/status}).
 * Mapped weight pages count in it once touched, so the bound to meet is the file size (plus the
 * KV cache and the JVM's own heap and code). Appends one line to {@link Samples#RESULTS}.
 *
 * <pre>PeakRss BENCH_DIR MODEL PROMPT DECODE [SEQUENCES]</pre>
 * MODEL is a generated folder under BENCH_DIR or a GGUF file there (e.g. {@code pythia-410m.Q8_0.gguf}).
 * PROMPT + DECODE should be a power of two at least 16: the KV cache then grows to exactly that
 * many positions. With SEQUENCES (default 1) that many sequences run together on the batched
 * {@link Engine}, as the multi-prompt commands run them (prompts admitted within its row budget,
 * then one batched forward call per decoded token), and the bound counts every sequence's KV cache.
 */
public final class PeakRss {
    private PeakRss() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: PeakRss BENCH_DIR MODEL PROMPT DECODE [SEQUENCES]");
            System.exit(2);
        }
        String dir = args[0], name = args[1];
        int prompt = Integer.parseInt(args[2]), decode = Integer.parseInt(args[3]);
        int sequences = args.length == 5 ? Integer.parseInt(args[4]) : 1;
        long t0 = System.nanoTime();
        try (BenchModel m = new BenchModel(dir, name)) {
            int[] next = m.tokens(decode, 2);
            List<Job> jobs = new ArrayList<>();
            for (int q = 0; q < sequences; q++) {
                int[] tokens = m.tokens(prompt, 1 + q);
                jobs.add(new Job() {
                    int fed;

                    @Override
                    public int[] prompt() {
                        return tokens;
                    }

                    @Override
                    public int next(float[] logits) {
                        return fed < decode ? next[fed++] : END;
                    }
                });
            }
            new Engine(m.model, sequences).run(jobs);
            ModelConfig c = m.model.config();
            int positions = prompt + decode;
            long kv = 2L * c.numLayers() * positions * c.numKvHeads() * c.headDim() * Float.BYTES * sequences;
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("bench", "rss");
            o.put("model", name);
            o.put("positions", positions);
            o.put("sequences", sequences);
            o.put("file_bytes", Files.size(m.weightsFile));
            o.put("kv_bytes", kv);
            o.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
            for (String key : new String[] {"VmHWM", "VmRSS", "RssAnon", "RssFile"}) o.put(key + "_bytes", status(key));
            o.put("seconds", (System.nanoTime() - t0) / 1e9);
            Samples.appendLine(Path.of(dir), o);
            System.out.println(o);
        }
    }

    /** A {@code kB} field of {@code /proc/self/status}, in bytes. */
    private static long status(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) return 1024 * Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("/proc/self/status has no " + key + " (not Linux?)");
    }
}
