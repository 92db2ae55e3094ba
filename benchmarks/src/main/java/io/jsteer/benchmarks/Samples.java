/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Times of named steps taken inside one JMH benchmark, kept for the measurement iterations only,
 * and appended as medians to {@value #RESULTS} for {@link Report}.
 *
 * <p>Why not JMH's own score alone: this machine's memory bandwidth drifts by tens of percent
 * from minute to minute (other virtual machines share it). Ratios such as "fraction of the
 * streaming-read roofline" are only meaningful when both sides are timed in the same window, so
 * the benchmarks alternate the step and its reference in every invocation and record both here.
 */
final class Samples {
    /** File under the benchmark directory that collects one JSON object per line. */
    static final String RESULTS = "results.jsonl";

    private final Map<String, long[]> series = new LinkedHashMap<>();
    private final Map<String, Integer> counts = new LinkedHashMap<>();
    private boolean measuring;

    /** Call from a {@code @Setup(Level.Iteration)} method: warmup iterations are not recorded. */
    void iteration(IterationParams p) {
        measuring = p.getType() == IterationType.MEASUREMENT;
    }

    /** Records one time of {@code step}, in nanoseconds. */
    void add(String step, long nanos) {
        if (!measuring) return;
        long[] a = series.computeIfAbsent(step, k -> new long[64]);
        int n = counts.getOrDefault(step, 0);
        if (n == a.length) series.put(step, a = Arrays.copyOf(a, 2 * n));
        a[n] = nanos;
        counts.put(step, n + 1);
    }

    /** Median of the recorded times of {@code step}, in milliseconds. */
    double medianMs(String step) {
        int n = counts.getOrDefault(step, 0);
        if (n == 0) throw new IllegalStateException("no measured samples of '" + step + "'");
        long[] nanos = series.get(step);
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) ms[i] = nanos[i] / 1e6;
        return median(ms);
    }

    /**
     * Median over invocations of {@code num / den}, where both steps were timed once per
     * invocation (so their samples pair up by index): unlike the ratio of the two medians, it
     * follows a drift of the machine that moves both steps of an invocation together.
     */
    double pairedMedian(String num, String den) {
        int n = counts.getOrDefault(num, 0);
        if (n == 0 || n != counts.getOrDefault(den, 0)) {
            throw new IllegalStateException("'" + num + "' and '" + den + "' have " + n + " and " + counts.getOrDefault(den, 0) + " samples: not one each per invocation");
        }
        long[] a = series.get(num), b = series.get(den);
        double[] r = new double[n];
        for (int i = 0; i < n; i++) r[i] = a[i] / (double) b[i];
        return median(r);
    }

    /** Median of {@code v} (sorted in place), the mean of the middle two when their number is even. */
    private static double median(double[] v) {
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Appends {@code fields} plus {@code <step>_ms} medians and sample counts to the results file under {@code dir}. */
    void append(Path dir, Map<String, Object> fields) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.valueToTree(fields);
        for (String step : series.keySet()) {
            o.put(step + "_ms", medianMs(step));
            o.put(step + "_n", counts.get(step));
        }
        appendLine(dir, o);
    }

    /** Appends one JSON object as a line of the results file under {@code dir}. */
    static void appendLine(Path dir, ObjectNode o) {
        try {
            Files.writeString(dir.resolve(RESULTS), new ObjectMapper().writeValueAsString(o) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + dir.resolve(RESULTS), e);
        }
    }
}
