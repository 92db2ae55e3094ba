/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
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
 * The steering hook of {@link BenchModel#steer} alone, as a decoded token runs it: the check
 * for an active hook, the dispatch, and the addition over one {@code [1][hidden]} row. Timed
 * over {@value #CALLS} calls per invocation, so the clock reads are negligible.
 */
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HookBench {
    private static final int CALLS = 1000;

    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param({"pythia-160m-bf16", "pythia-410m-bf16", "gemma-2-2b-bf16"})
    public String model;

    private final Samples samples = new Samples();
    private BenchModel m;
    private State s;
    private HookContext ctx;
    private float[] x;

    @Setup
    public void open() {
        m = new BenchModel(dir, model);
        s = m.model.newState();
        m.steer(s);
        int d = m.model.config().hiddenSize(), layer = m.model.config().numLayers() / 2;
        ctx = new HookContext(new HookName(layer, HookPoint.RESID_POST), 40, 1, d, 32);
        x = new float[d];
    }

    @Setup(Level.Iteration)
    public void iteration(IterationParams p) {
        samples.iteration(p);
    }

    @TearDown
    public void close() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bench", "hook");
        f.put("model", model);
        f.put("hidden", x.length);
        f.put("calls_per_sample", CALLS);
        samples.append(Path.of(dir), f);
        m.close();
    }

    @Benchmark
    public float hook() {
        long t0 = System.nanoTime();
        for (int i = 0; i < CALLS; i++) {
            if (s.hooks().active(ctx.name().layer(), HookPoint.RESID_POST)) s.hooks().run(ctx, x);
        }
        samples.add("hooks", System.nanoTime() - t0);
        return x[0];
    }
}
