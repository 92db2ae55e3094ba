/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.weights.Tensor;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * A small product run on the device before it is trusted with a model: compiles both kernels and
 * compares them with the CPU backend, so a device that cannot build or run them is refused up front.
 */
final class SelfCheck {
    private static final int ROWS = 5;
    private static final int COLS = 37;
    /** A token count that exercises a full batched block, a partial one and the matvec path. */
    private static final int TOKENS = DeviceMatrix.TOKEN_BLOCK + 3;
    private static final double TOLERANCE = 1e-4;

    private SelfCheck() {}

    /** Throws {@link IllegalStateException} when {@code device} gets a product wrong. */
    static void run(TornadoDevice device) {
        float[] wv = new float[ROWS * COLS];
        for (int i = 0; i < wv.length; i++) wv[i] = (float) Math.sin(0.37 * i + 0.1);
        float[] x = new float[TOKENS * COLS];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.cos(0.23 * i);
        Tensor w = Tensor.of("self-check", wv, ROWS, COLS);

        float[] expected = new float[TOKENS * ROWS];
        CpuBackend.INSTANCE.matmul(w, x, expected, TOKENS);
        float[] actual = new float[TOKENS * ROWS];
        try (DeviceMatrix m = new DeviceMatrix(w, device)) {
            m.matmul(x, actual, TOKENS);
        }
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= TOLERANCE * (1 + Math.abs(expected[i])))) {
                throw new IllegalStateException("element " + i + " (token " + i / ROWS + ", row " + i % ROWS + ") is "
                        + actual[i] + ", the CPU backend gives " + expected[i]);
            }
        }
    }
}
