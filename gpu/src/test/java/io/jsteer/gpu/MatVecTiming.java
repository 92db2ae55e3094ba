/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import io.jsteer.weights.Tensor;
import java.util.Arrays;
import java.util.Random;

/**
 * Informational timing, not a test: one-token matvec on the TornadoVM device (activations in and out
 * included) against a naive single-threaded Java loop over a float array. Run by
 * {@code GPU_BENCH=1 scripts/test-gpu.sh}.
 */
public final class MatVecTiming {
    private static final int WARMUP = 20;
    private static final int RUNS = 100;

    private MatVecTiming() {}

    public static void main(String[] args) {
        TornadoBackend backend = TornadoBackend.tryCreate(System.out::println)
                .orElseThrow(() -> new IllegalStateException("no TornadoVM backend"));
        int[][] shapes = {{256, 256}, {2048, 2048}, {8192, 2048}, {50304, 512}};
        for (int[] shape : shapes) {
            int rows = shape[0], cols = shape[1];
            Random random = new Random(rows + cols);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = random.nextFloat() - 0.5f;
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = random.nextFloat() - 0.5f;
            Tensor tensor = Tensor.of("w" + rows + "x" + cols, w, rows, cols);
            float[] out = new float[rows];

            long upload = System.nanoTime();
            backend.matmul(tensor, x, out, 1);
            upload = System.nanoTime() - upload;
            double device = medianMs(() -> backend.matmul(tensor, x, out, 1));
            float[] javaOut = new float[rows];
            double java = medianMs(() -> naive(w, x, javaOut, rows, cols));
            float maxDiff = 0;
            for (int r = 0; r < rows; r++) maxDiff = Math.max(maxDiff, Math.abs(out[r] - javaOut[r]));
            System.out.printf("matvec %6d x %5d: device %8.3f ms, naive Java %8.3f ms (first call incl. upload+compile %6.0f ms, max |diff| %.2e)%n",
                    rows, cols, device, java, upload / 1e6, maxDiff);
        }
        backend.close();
    }

    private static void naive(float[] w, float[] x, float[] out, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float acc = 0;
            for (int c = 0; c < cols; c++) acc += w[r * cols + c] * x[c];
            out[r] = acc;
        }
    }

    private static double medianMs(Runnable body) {
        for (int i = 0; i < WARMUP; i++) body.run();
        double[] ms = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long t = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }
}
