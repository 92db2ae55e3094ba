/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.progress.Progress;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.ModelWeights;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Validates a checkpoint folder without running it: config, tensor layout and shapes, tokenizer, and every weight finite. */
@Command(name = "check", description = {"Check a model folder: config.json values, the safetensors layout and the shapes the config implies,",
        "tokenizer.json when present, and every tensor scanned for NaN and infinity (one line per tensor).",
        "Exits 1 when anything is wrong."})
public final class CheckCommand extends CommandBase {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR", required = true, description = "Hugging Face model folder, or '" + DefaultModel.NAME + "'.")
    String model;

    /** Elements converted and scanned per read. */
    private static final int CHUNK = 1 << 16;

    @Override
    void execute() {
        Path dir = model.equals(DefaultModel.NAME) ? DefaultModel.ensure(DefaultModel.defaultDirectory()) : Path.of(model);
        if (!Files.isDirectory(dir)) throw new UserError("--model " + model + (Files.exists(dir) ? " is not a folder" : " does not exist"));
        try (Checkpoint cp = Checkpoint.open(dir)) {
            ModelWeights.load(cp.config(), cp.weights());
            out().printf("%s: config.json and tensor shapes fit %s%n", dir, cp.config().architecture());
            Path tok = dir.resolve("tokenizer.json");
            if (Files.isRegularFile(tok)) {
                out().printf("%s: %d tokens%n", tok, Tokenizers.load(tok).vocabSize());
            }
            String[] names = cp.weights().names().stream().sorted().toArray(String[]::new);
            long bytes = 0;
            for (String n : names) bytes += cp.weights().tensor(n).data().byteSize();
            int bad = 0;
            int steps = (int) Math.max(1, (bytes + MIB - 1) / MIB);
            try (Progress progress = Progress.start(err(), "check", steps)) {
                Scan scan = new Scan(progress, steps);
                for (String n : names) {
                    Tensor t = cp.weights().tensor(n);
                    String result = scan.tensor(t);
                    if (result != null) bad++;
                    out().printf("%-60s %-4s %-16s %s%n", n, t.dtype(), Arrays.toString(t.shape()), result == null ? "finite" : result);
                }
                scan.finish();
            }
            if (bad > 0) throw new UserError(bad + " of " + names.length + " tensors in " + dir + " hold NaN or infinite values");
            out().printf(Locale.ROOT, "%d tensors, %.1f MB, all finite%n", names.length, bytes / 1e6);
        }
    }

    private static final long MIB = 1 << 20;

    /** Scans tensors, stepping the progress once per MiB read. */
    private static final class Scan {
        private final Progress progress;
        private final int steps;
        private final float[] buf = new float[CHUNK];
        private long bytesRead, reported;

        Scan(Progress progress, int steps) {
            this.progress = progress;
            this.steps = steps;
        }

        /** Null when every element is finite, else the counts and the first offending index. */
        String tensor(Tensor t) {
            long n = t.size(), nan = 0, pos = 0, neg = 0, first = -1;
            int width = t.dtype().bytes();
            for (long from = 0; from < n; from += CHUNK) {
                int len = (int) Math.min(CHUNK, n - from);
                float[] b = len == CHUNK ? buf : new float[len];
                t.read(from, b);
                for (int i = 0; i < len; i++) {
                    float v = b[i];
                    if (Float.isFinite(v)) continue;
                    if (first < 0) first = from + i;
                    if (Float.isNaN(v)) nan++;
                    else if (v > 0) pos++;
                    else neg++;
                }
                advance((long) len * width);
            }
            if (first < 0) return null;
            return String.format(Locale.ROOT, "%d NaN, %d +Inf, %d -Inf (first at flat index %d)", nan, pos, neg, first);
        }

        private void advance(long bytes) {
            bytesRead += bytes;
            while (reported < Math.min(steps, bytesRead / MIB)) {
                reported++;
                progress.step(null);
            }
        }

        void finish() {
            while (reported < steps) {
                reported++;
                progress.step(null);
            }
        }
    }
}
