/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.kernels.MatMul;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.Tensor;
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
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;

/**
 * One-token matrix-vector product over a mapped {@value ModelGenerator#MATRIX_ROWS} x
 * {@value ModelGenerator#MATRIX_COLS} matrix per dtype and vector width, each invocation followed
 * by a streaming read of the same bytes ({@link StreamRead}, the bandwidth roofline). Both medians
 * go to {@link Samples#RESULTS}; JMH's score is the time of the pair.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 10, time = 2)
public class MatVecBench {
    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param({"F32", "BF16", "F16"})
    public String dtype;

    @Param({"128", "256", "512"})
    public int bits;

    private final Samples samples = new Samples();
    private SafeTensorsFile file;
    private Tensor w;
    private MatMul mm;
    private float[] x, out;

    @Setup
    public void open() {
        file = SafeTensorsFile.open(ModelGenerator.matrix(Path.of(dir), DType.valueOf(dtype)));
        w = file.tensor("w");
        mm = MatMul.withBits(bits);
        x = new float[w.dim(1)];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        out = new float[w.dim(0)];
    }

    @Setup(Level.Iteration)
    public void iteration(IterationParams p) {
        samples.iteration(p);
    }

    @TearDown
    public void close() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("bench", "matvec");
        f.put("dtype", dtype);
        f.put("bits", bits);
        f.put("bytes", w.data().byteSize());
        samples.append(Path.of(dir), f);
        file.close();
    }

    @Benchmark
    public float matvecThenStream() {
        long t0 = System.nanoTime();
        mm.multiply(w, x, out, 1);
        long t1 = System.nanoTime();
        float s = StreamRead.sum(w.data(), bits);
        long t2 = System.nanoTime();
        samples.add("matvec", t1 - t0);
        samples.add("stream", t2 - t1);
        return s + out[0];
    }
}
