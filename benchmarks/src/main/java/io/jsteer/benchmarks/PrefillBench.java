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

/** Reading a {@code prompt}-token prompt into a fresh sequence in one forward pass (logits of the last position only). */
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 3)
public class PrefillBench {
    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param({"pythia-160m-bf16", "pythia-160m-f32", "pythia-410m-bf16", "pythia-410m-f32", "gemma-2-2b-bf16", "gemma-2-2b-f32"})
    public String model;

    @Param("128")
    public int prompt;

    private final Samples samples = new Samples();
    private BenchModel m;
    private State s;
    private int[] tokens;

    @Setup
    public void open() {
        m = new BenchModel(dir, model);
        s = m.model.newState();
        tokens = m.tokens(prompt, 3);
    }

    @Setup(Level.Iteration)
    public void iteration(IterationParams p) {
        samples.iteration(p);
    }

    @TearDown
    public void close() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bench", "prefill");
        f.put("model", model);
        f.put("prompt", prompt);
        f.put("bytes_per_token", m.bytesPerToken());
        samples.append(Path.of(dir), f);
        m.close();
    }

    @Benchmark
    public float[] prefill() {
        s.reset();
        long t0 = System.nanoTime();
        float[] logits = m.model.forward(s, tokens, false);
        samples.add("prefill", System.nanoTime() - t0);
        return logits;
    }
}
