/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.weights.BFloat16;
import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * TornadoBackend against a plain double-precision Java product. Runs on the TornadoVM device with
 * bailout to Java disabled (see gpu/pom.xml), so a kernel that does not compile fails here.
 */
class TornadoBackendTest {
    private static final double TOLERANCE = 1e-4;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static TornadoBackend backend;
    private static final List<String> reports = new ArrayList<>();

    @BeforeAll
    static void create() {
        backend = TestBackends.open(reports);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void reportsTheDevice() {
        assertTrue(reports.getLast().startsWith("TornadoVM backend on "), reports.toString());
        assertEquals("tornadovm", backend.name());
    }

    @Test
    void matvecMatchesDoubleReference() {
        // Neither dimension a multiple of the work-group size, so the strided loop's tail is exercised.
        Tensor w = f32("w", randoms(1, 67 * 129), 67, 129);
        check(w, randoms(2, 129), 1);
    }

    @Test
    void batchedMatmulMatchesDoubleReference() {
        // Two full token blocks, a partial one, across the block boundaries.
        int tokens = 2 * DeviceMatrix.TOKEN_BLOCK + 6;
        Tensor w = f32("w", randoms(3, 45 * 300), 45, 300);
        check(w, randoms(4, tokens * 300), tokens);
    }

    @Test
    void blockOfOneTokenGoesThroughMatvec() {
        int tokens = DeviceMatrix.TOKEN_BLOCK + 1;
        Tensor w = f32("w", randoms(5, 33 * 64), 33, 64);
        check(w, randoms(6, tokens * 64), tokens);
    }

    @Test
    void halfPrecisionWeightsAreWidened() {
        float[] values = randoms(7, 40 * 96);
        MemorySegment f16 = MemorySegment.ofArray(new short[values.length]);
        MemorySegment bf16 = MemorySegment.ofArray(new short[values.length]);
        for (int i = 0; i < values.length; i++) {
            f16.setAtIndex(U16, i, Float.floatToFloat16(values[i]));
            bf16.setAtIndex(U16, i, BFloat16.fromFloat(values[i]));
        }
        float[] x = randoms(8, 3 * 96);
        check(new Tensor("f16", DType.F16, new long[] {40, 96}, f16), x, 3);
        check(new Tensor("bf16", DType.BF16, new long[] {40, 96}, bf16), x, 3);
    }

    @Test
    void weightsAreReadFromTheTensorOnce() {
        float[] values = randoms(9, 24 * 80);
        MemorySegment data = MemorySegment.ofArray(new byte[values.length * 4]);
        for (int i = 0; i < values.length; i++) data.setAtIndex(F32, i, values[i]);
        Tensor w = new Tensor("w", DType.F32, new long[] {24, 80}, data);
        Tensor original = f32("original", values.clone(), 24, 80);
        check(w, randoms(10, 80), 1);

        // The backend keeps its upload: later changes to the tensor's data must not be seen.
        for (int i = 0; i < values.length; i++) data.setAtIndex(F32, i, -values[i]);
        float[] x = randoms(11, 5 * 80);
        float[] out = new float[5 * 24];
        backend.matmul(w, x, out, 5);
        assertClose(reference(original, x, 5), out, "after the tensor changed");
    }

    @Test
    void weightsAreSentToTheDeviceOnce() {
        int rows = 24, cols = 80, tokens = 5;
        float[] values = randoms(14, rows * cols);
        FloatArray host = FloatArray.fromArray(values);
        Tensor original = f32("original", values, rows, cols);
        try (DeviceMatrix m = new DeviceMatrix("w", host, rows, cols, backend.device())) {
            // Changing the host array after the upload must reach neither graph: both use the device copy.
            host.init(0f);
            float[] x = randoms(15, tokens * cols);
            float[] out = new float[tokens * rows];
            m.matmul(x, out, tokens);
            assertClose(reference(original, x, tokens), out, "batched after the host array changed");
            m.matmul(x, out, 1);
            assertClose(reference(original, x, 1), Arrays.copyOf(out, rows), "matvec after the host array changed");
        }
    }

    @Test
    void weightTooLargeForTheBudgetIsMultipliedOnTheCpu() {
        List<String> messages = new ArrayList<>();
        TornadoBackend small = new TornadoBackend(backend.device(), Long.MAX_VALUE, 1024, messages::add);
        Tensor w = f32("big", randoms(12, 30 * 50), 30, 50);
        float[] x = randoms(13, 2 * 50);
        float[] out = new float[2 * 30];
        small.matmul(w, x, out, 2);
        assertClose(reference(w, x, 2), out, "CPU fallback");
        assertEquals(List.of(w), small.cpuFallbacks());
        assertTrue(messages.getFirst().contains("big") && messages.getFirst().contains("on the CPU"), messages.toString());
        small.close();
    }

    @Test
    void shortActivationsAreRejectedNamingTheWeight() {
        Tensor w = f32("gpt_neox.layers.0.mlp.dense_4h_to_h.weight", randoms(16, 8 * 16), 8, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.matmul(w, new float[2 * 16 - 1], new float[2 * 8], 2));
        assertTrue(e.getMessage().contains("dense_4h_to_h") && e.getMessage().contains("needs x of 32"), e.getMessage());
    }

    private static void check(Tensor w, float[] x, int tokens) {
        float[] out = new float[tokens * w.dim(0)];
        backend.matmul(w, x, out, tokens);
        assertClose(reference(w, x, tokens), out, w + " x " + tokens + " tokens");
    }

    /** The product in double precision, from the weights as the tensor reads them (widened to float). */
    private static double[] reference(Tensor w, float[] x, int tokens) {
        int rows = w.dim(0), cols = w.dim(1);
        double[] out = new double[tokens * rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double acc = 0;
                for (int c = 0; c < cols; c++) acc += (double) w.get((long) r * cols + c) * x[t * cols + c];
                out[t * rows + r] = acc;
            }
        }
        return out;
    }

    /** Every element within TOLERANCE of the reference, relative to the largest reference magnitude. */
    private static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (double e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= TOLERANCE * scale)) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]
                        + " (error " + err / scale + " of the output scale " + scale + ")");
            }
        }
    }

    private static Tensor f32(String name, float[] values, long rows, long cols) {
        return Tensor.of(name, values, rows, cols);
    }

    private static float[] randoms(long seed, int n) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian();
        return v;
    }
}
