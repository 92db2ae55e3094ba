/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.State;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;

/**
 * Decoding one token at a time after a {@code context}-token prompt, at positions {@code context}
 * to {@code context + }{@value #SPAN}{@code  - 1}: the sequences are truncated back to the prompt
 * each time they reach the end of that span, so every model decodes at the same positions
 * whatever its speed (the context used to grow through each iteration, to several hundred
 * positions for the fastest models and a few dozen for the slowest). Each invocation times, back
 * to back: a token without hooks, a token with the steering hook of {@link BenchModel#steer}
 * (on a second sequence), and a streaming read of the whole weights file (the bandwidth
 * roofline). The first two alternate order so neither always runs on a cold cache.
 */
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
public class DecodeBench {
    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param({"pythia-160m-bf16", "pythia-160m-f32", "pythia-410m-bf16", "pythia-410m-f32", "gemma-2-2b-bf16", "gemma-2-2b-f32"})
    public String model;

    @Param("32")
    public int context;

    /** Positions decoded after the prompt before the sequences are truncated back to it: one KV cache block. */
    static final int SPAN = 64;

    private final Samples samples = new Samples();
    private BenchModel m;
    private State plain, steered;
    private int[] next;
    private int invocation;

    @Setup
    public void open() {
        m = new BenchModel(dir, model);
        next = m.tokens(1 << 16, 2);
    }

    @Setup(Level.Iteration)
    public void prompt(IterationParams p) {
        samples.iteration(p);
        plain = m.prompted(context, false);
        steered = m.prompted(context, true);
    }

    @TearDown
    public void close() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bench", "decode");
        f.put("model", model);
        f.put("context", context);
        f.put("span", SPAN);
        f.put("hidden", m.model.config().hiddenSize());
        f.put("bytes_per_token", m.bytesPerToken());
        f.put("file_bytes", m.file.byteSize());
        f.put("stream_per_token_paired", samples.pairedMedian("stream", "token"));
        samples.append(Path.of(dir), f);
        m.close();
    }

    @Benchmark
    public float tokenPlainSteeredStream() {
        if (plain.length() == context + SPAN) {
            plain.truncate(context);
            steered.truncate(context);
        }
        int[] t = {next[invocation++ & (next.length - 1)]};
        float[] a, b;
        if ((invocation & 1) == 0) {
            a = timed("token", plain, t);
            b = timed("steered", steered, t);
        } else {
            b = timed("steered", steered, t);
            a = timed("token", plain, t);
        }
        long t0 = System.nanoTime();
        float s = StreamRead.sum(m.file, 256);
        samples.add("stream", System.nanoTime() - t0);
        return a[0] + b[0] + s;
    }

    private float[] timed(String step, State s, int[] token) {
        long t0 = System.nanoTime();
        float[] logits = m.model.forward(s, token, false);
        samples.add(step, System.nanoTime() - t0);
        return logits;
    }
}
