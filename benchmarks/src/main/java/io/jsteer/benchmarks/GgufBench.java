/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import java.nio.file.Path;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A llama.cpp model file, as {@code llama-bench -p 128 -n N} times it on the same file (see
 * {@code benchmarks/llama/side_by_side.sh}, which alternates the two): {@link #decode} one token
 * at positions 32 to 95 of a sequence (truncated back to its 32-token prompt at the end of the
 * span), {@link #prefill} a 128-token prompt into an empty sequence.
 */
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
// a Gemma-2-2B prefill takes several seconds: one short warm-up iteration was a single operation,
// and the first measured ones still ran code the JIT had not finished compiling
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 4, time = 3)
public class GgufBench {
    @Param("/tmp/jsteer-gguf/pythia-410m.Q8_0.gguf")
    public String file;

    private static final int CONTEXT = 32, SPAN = 64, PREFILL = 128;
    private Model model;
    private State s;
    private int[] tokens;
    private int next;

    @Setup
    public void open() {
        model = Model.load(Path.of(file));
        SplittableRandom rnd = new SplittableRandom(5);
        tokens = new int[4096];
        for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(Math.min(model.config().vocabSize(), 32000));
    }

    @Setup(Level.Iteration)
    public void prompt() {
        s = model.newState();
        model.forward(s, java.util.Arrays.copyOf(tokens, CONTEXT), false);
    }

    @Benchmark
    public float decode() {
        if (s.length() == CONTEXT + SPAN) s.truncate(CONTEXT);
        return model.forward(s, new int[] {tokens[next++ & 4095]}, false)[0];
    }

    @Benchmark
    public float prefill() {
        return model.forward(model.newState(), java.util.Arrays.copyOfRange(tokens, 100, 100 + PREFILL), false)[0];
    }
}
