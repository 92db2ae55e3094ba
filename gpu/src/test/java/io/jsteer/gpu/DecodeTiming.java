/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.weights.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Informational timing, not a test: cached decoding, one token per forward call, on the CPU
 * {@link Model} and through {@link TornadoBackend#forward} on the TornadoVM device. Arguments are
 * checkpoint folders (default: every fixture). Run by {@code GPU_BENCH=1 scripts/test-gpu.sh}.
 */
public final class DecodeTiming {
    private static final int PROMPT = 8;
    private static final int WARMUP = 8;
    private static final int TOKENS = 48;

    private DecodeTiming() {}

    public static void main(String[] args) throws Exception {
        TornadoBackend backend = TornadoBackend.tryCreate(System.out::println)
                .orElseThrow(() -> new IllegalStateException("no TornadoVM backend"));
        List<Path> dirs = new ArrayList<>();
        if (args.length > 0) {
            for (String a : args) dirs.add(Path.of(a));
        } else {
            try (var list = Files.list(Path.of("tests/src/test/resources/fixtures"))) {
                list.filter(d -> Files.isRegularFile(d.resolve("model.safetensors"))).sorted().forEach(dirs::add);
            }
        }
        for (Path dir : dirs) {
            Model cpu = Model.load(dir), device = Model.load(dir, backend);
            ModelConfig c = cpu.config();
            long first = System.nanoTime();
            try {
                device.forward(device.newState(), new int[] {1}, false);
            } catch (UnsupportedOperationException e) {
                System.out.printf("%-24s %s%n", dir.getFileName(), e.getMessage());
                continue;
            }
            first = System.nanoTime() - first;
            System.out.printf("%-24s %d layers, d=%d, vocab=%d: decode CPU %7.3f ms/token, device %7.3f ms/token"
                            + " (first call, upload + kernel compile: %.1f s)%n",
                    dir.getFileName(), c.numLayers(), c.hiddenSize(), c.vocabSize(), decodeMs(cpu), decodeMs(device), first / 1e9);
        }
        backend.close();
    }

    /** Median time of one decoding step after a prompt, over {@link #TOKENS} steps. */
    private static double decodeMs(Model model) {
        State s = model.newState();
        int vocab = model.config().vocabSize();
        int[] prompt = new int[PROMPT];
        for (int i = 0; i < PROMPT; i++) prompt[i] = (7 * i + 3) % vocab;
        model.forward(s, prompt, false);
        double[] ms = new double[TOKENS];
        for (int i = 0; i < WARMUP + TOKENS; i++) {
            long t = System.nanoTime();
            model.forward(s, new int[] {(13 * i + 5) % vocab}, false);
            if (i >= WARMUP) ms[i - WARMUP] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        return ms[TOKENS / 2];
    }
}
