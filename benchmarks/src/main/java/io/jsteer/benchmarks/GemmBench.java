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
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A several-token product over the first {@code rows} rows of the mapped
 * {@value ModelGenerator#MATRIX_ROWS} x {@value ModelGenerator#MATRIX_COLS} matrix (read as
 * {@code cols} columns when given, for a model's shapes, e.g. {@code -p rows=9216 -p cols=2304}
 * for Gemma-2-2B's MLP), both cores: GFLOP/s = 2 x rows x cols x tokens / time. Compare with
 * {@link FmaPeakBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBench {
    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param({"F32", "BF16", "F16"})
    public String dtype;

    @Param({"256", "512"})
    public int bits;

    @Param({"128"})
    public int tokens;

    @Param({"2048"})
    public int rows;

    /** {@code batch}: the order of one token (decoded rows); {@code prompt}: the prompt order (see {@link MatMul}). */
    @Param({"batch"})
    public String order;

    /** Columns of the product; 0 for the matrix's own. */
    @Param({"0"})
    public int cols;

    private SafeTensorsFile file;
    private Tensor w;
    private MatMul mm;
    private float[] x, out;

    @Setup
    public void open() {
        file = SafeTensorsFile.open(ModelGenerator.matrix(Path.of(dir), DType.valueOf(dtype)));
        Tensor all = file.tensor("w");
        int n = cols == 0 ? all.dim(1) : cols;
        w = new Tensor("w", all.dtype(), new long[] {rows, n}, all.data().asSlice(0, (long) rows * n * all.dtype().bytes()));
        mm = MatMul.withBits(bits);
        x = new float[tokens * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        out = new float[tokens * rows];
    }

    @TearDown
    public void close() {
        file.close();
    }

    @Benchmark
    public float product() {
        if (order.equals("prompt")) {
            mm.products(w, x, out, tokens, tokens).run();
        } else {
            mm.multiply(w, x, out, tokens);
        }
        return out[0];
    }
}
