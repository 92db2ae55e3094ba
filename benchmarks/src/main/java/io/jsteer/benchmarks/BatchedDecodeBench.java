/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 * Batched decode: {@code sequences} sequences, each after its own {@code context}-token prompt,
 * advance one token each in one {@link Model#forward(List)} step (positions 32-95, then truncated
 * back to the prompt, as in {@link DecodeBench}). Aggregate tokens/s = sequences / step time.
 */
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 3)
public class BatchedDecodeBench {
    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param("pythia-410m-bf16")
    public String model;

    @Param({"1", "2", "4", "8", "16"})
    public int sequences;

    @Param("32")
    public int context;

    private final Samples samples = new Samples();
    private BenchModel m;
    private final List<State> states = new ArrayList<>();
    private int[] next;
    private int invocation;

    @Setup
    public void open() {
        m = new BenchModel(dir, model);
        next = m.tokens(1 << 16, 5);
    }

    @Setup(Level.Iteration)
    public void prompt(IterationParams p) {
        samples.iteration(p);
        states.clear();
        for (int i = 0; i < sequences; i++) states.add(m.prompted(context, false));
    }

    @TearDown
    public void close() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bench", "batched-decode");
        f.put("model", model);
        f.put("sequences", sequences);
        f.put("bytes_per_token", m.bytesPerToken());
        samples.append(Path.of(dir), f);
        m.close();
    }

    @Benchmark
    public float step() {
        if (states.getFirst().length() == context + DecodeBench.SPAN) for (State s : states) s.truncate(context);
        List<Model.Step> steps = new ArrayList<>(sequences);
        for (State s : states) steps.add(new Model.Step(s, new int[] {next[invocation++ & (next.length - 1)]}, false));
        long t0 = System.nanoTime();
        List<float[]> logits = m.model.forward(steps);
        samples.add("step", System.nanoTime() - t0);
        return logits.getFirst()[0];
    }
}
