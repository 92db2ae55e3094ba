/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's float32 fused multiply-add peak: twelve independent vector accumulators in
 * registers (enough to cover the FMA latency on two ports), no memory traffic, one thread per
 * core. The score is vector FMAs per microsecond of all threads together (JMH adds up the
 * threads' throughputs); GFLOP/s of all cores = score x lanes x 2 / 1000 (256 bits: x 16,
 * 512 bits: x 32).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(Threads.MAX)
public class FmaPeakBench {
    private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256, S512 = FloatVector.SPECIES_512;
    private static final int STEPS = 1 << 12, ACC = 12;

    private float a, b;

    @Setup
    public void setup() {
        a = 0.999f;
        b = 1e-3f;
    }

    @Benchmark
    @OperationsPerInvocation(STEPS * ACC)
    public float fma256() {
        FloatVector m = FloatVector.broadcast(S256, a), c = FloatVector.broadcast(S256, b);
        FloatVector s0 = c, s1 = c.add(1), s2 = c.add(2), s3 = c.add(3), s4 = c.add(4), s5 = c.add(5);
        FloatVector s6 = c.add(6), s7 = c.add(7), s8 = c.add(8), s9 = c.add(9), s10 = c.add(10), s11 = c.add(11);
        for (int i = 0; i < STEPS; i++) {
            s0 = s0.fma(m, c); s1 = s1.fma(m, c); s2 = s2.fma(m, c); s3 = s3.fma(m, c);
            s4 = s4.fma(m, c); s5 = s5.fma(m, c); s6 = s6.fma(m, c); s7 = s7.fma(m, c);
            s8 = s8.fma(m, c); s9 = s9.fma(m, c); s10 = s10.fma(m, c); s11 = s11.fma(m, c);
        }
        return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).add(s8).add(s9).add(s10).add(s11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    @Benchmark
    @OperationsPerInvocation(STEPS * ACC)
    public float fma512() {
        FloatVector m = FloatVector.broadcast(S512, a), c = FloatVector.broadcast(S512, b);
        FloatVector s0 = c, s1 = c.add(1), s2 = c.add(2), s3 = c.add(3), s4 = c.add(4), s5 = c.add(5);
        FloatVector s6 = c.add(6), s7 = c.add(7), s8 = c.add(8), s9 = c.add(9), s10 = c.add(10), s11 = c.add(11);
        for (int i = 0; i < STEPS; i++) {
            s0 = s0.fma(m, c); s1 = s1.fma(m, c); s2 = s2.fma(m, c); s3 = s3.fma(m, c);
            s4 = s4.fma(m, c); s5 = s5.fma(m, c); s6 = s6.fma(m, c); s7 = s7.fma(m, c);
            s8 = s8.fma(m, c); s9 = s9.fma(m, c); s10 = s10.fma(m, c); s11 = s11.fma(m, c);
        }
        return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).add(s8).add(s9).add(s10).add(s11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
