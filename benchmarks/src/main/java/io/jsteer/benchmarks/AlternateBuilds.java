/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.weights.DType;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Two builds' prompt-order products timed in one JVM, one product of each in turn: each build's
 * benchmarks jar is loaded by a class loader of its own, and both multiply the same mapped
 * {@link ModelGenerator#matrix} (BF16, written first if missing) by the same x. A shared host's
 * speed drifts from one minute to the next by more than most kernel changes are worth
 * (RESULTS.md): two builds timed in turns of whole JMH runs differ by the drift, while
 * products taken in turn see the same drift and their ratio keeps only the builds' difference.
 * The builds must share {@code MatMul}'s and {@code Tensor}'s public API, which this calls by
 * reflection.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED [-Dtokens=128 -Dseconds=12 -Ddir=/tmp/jsteer-bench] \
 *     -cp benchmarks/target/benchmarks.jar io.jsteer.benchmarks.AlternateBuilds OLD.jar NEW.jar 4096x1024 9216x2304 ...
 * </pre>
 *
 * For each shape (rows x columns of the matrix's first elements) it prints each build's GFLOP/s,
 * from its mean and from its fastest product, and the ratio of the means (new over old: above 1
 * the new build is faster). The first quarter of each shape's time is warm-up and not counted.
 */
public final class AlternateBuilds {
    private AlternateBuilds() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: AlternateBuilds OLD.jar NEW.jar ROWSxCOLS...");
            System.exit(2);
        }
        int tokens = Integer.getInteger("tokens", 128);
        double seconds = Double.parseDouble(System.getProperty("seconds", "12"));
        Path dir = Path.of(System.getProperty("dir", "/tmp/jsteer-bench"));
        Path[] jars = {Path.of(args[0]), Path.of(args[1])};
        Path matrix = ModelGenerator.matrix(dir, DType.BF16);
        for (String shape : Arrays.copyOfRange(args, 2, args.length)) {
            String[] rc = shape.split("x");
            int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
            Runnable[] product = new Runnable[2];
            for (int b = 0; b < 2; b++) product[b] = product(jars[b], matrix, rows, cols, tokens);
            double[] sum = new double[2], fastest = {Double.MAX_VALUE, Double.MAX_VALUE};
            int[] n = new int[2];
            long start = System.nanoTime(), counted = start + (long) (seconds * 0.25e9), end = start + (long) (seconds * 1e9);
            for (int i = 0; System.nanoTime() < end; i++) {
                int b = i & 1;
                long t0 = System.nanoTime();
                product[b].run();
                long t = System.nanoTime() - t0;
                if (t0 > counted) {
                    sum[b] += t;
                    n[b]++;
                    fastest[b] = Math.min(fastest[b], t);
                }
            }
            double flop = 2.0 * rows * cols * tokens, oldMean = sum[0] / n[0], newMean = sum[1] / n[1];
            System.out.printf("%-11s old %.1f GFLOP/s (fastest %.1f), new %.1f (fastest %.1f), new/old %.3f, %d products each%n",
                    shape, flop / oldMean, flop / fastest[0], flop / newMean, flop / fastest[1], oldMean / newMean, Math.min(n[0], n[1]));
        }
    }

    /** One build's product of the matrix's first {@code rows x cols} elements by x, all of x's rows a prompt's. */
    private static Runnable product(Path jar, Path matrix, int rows, int cols, int tokens) throws Exception {
        ClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> fileClass = loader.loadClass("io.jsteer.weights.SafeTensorsFile");
        Class<?> tensorClass = loader.loadClass("io.jsteer.weights.Tensor");
        Class<?> dtypeClass = loader.loadClass("io.jsteer.weights.DType");
        Object file = fileClass.getMethod("open", Path.class).invoke(null, matrix);
        Object all = fileClass.getMethod("tensor", String.class).invoke(file, "w");
        MemorySegment data = (MemorySegment) tensorClass.getMethod("data").invoke(all);
        Object dtype = tensorClass.getMethod("dtype").invoke(all);
        Object w = tensorClass.getConstructor(String.class, dtypeClass, long[].class, MemorySegment.class)
                .newInstance("w", dtype, new long[] {rows, cols}, data.asSlice(0, 2L * rows * cols));
        Method matmul = loader.loadClass("io.jsteer.transformer.kernels.MatMul")
                .getMethod("matmul", tensorClass, float[].class, float[].class, int.class, int.class);
        float[] x = new float[tokens * cols], out = new float[tokens * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        return () -> {
            try {
                matmul.invoke(null, w, x, out, tokens, tokens);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        };
    }
}
