/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every dtype and vector width against a double-precision product of the stored values. */
class MatMulTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] ROWS = {1, 3, 4, 5, 17, 33};
    private static final int[] COLS = {1, 7, 8, 15, 16, 17, 64, 100, 257};
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 9};

    static Stream<Arguments> widthsAndTypes() {
        List<Arguments> list = new ArrayList<>();
        for (int bits : widths()) for (DType t : DType.values()) if (!t.isQuantized()) list.add(Arguments.of(bits, t));
        return list.stream();
    }

    /** One-token products read rows one by one or four at a time: both ways, whatever the width. */
    private static List<MatMul> bothRowOrders(int bits) {
        return List.of(MatMul.withBits(bits, Integer.MAX_VALUE), MatMul.withBits(bits, 0));
    }

    private static int[] widths() {
        return IntStream.of(128, 256, 512).filter(b -> b <= MatMul.maxBits()).toArray();
    }

    @ParameterizedTest(name = "{0} bits {1}")
    @MethodSource("widthsAndTypes")
    void smallShapesMatchTheReference(int bits, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(bits * 31L + dtype.ordinal());
        for (MatMul mm : bothRowOrders(bits)) {
            for (int rows : ROWS) {
                for (int cols : COLS) {
                    Tensor w = randomTensor(dtype, rows, cols, rnd);
                    for (int tokens : TOKENS) check(mm, w, tokens, rnd);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} bits {1}")
    @MethodSource("widthsAndTypes")
    void modelSizedShapesMatchTheReference(int bits, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(7);
        Tensor w = randomTensor(dtype, 301, 1031, rnd);
        for (MatMul mm : bothRowOrders(bits)) for (int tokens : new int[] {1, 6, 16}) check(mm, w, tokens, rnd);
        Tensor wide = randomTensor(dtype, 9, MatMul.SEQUENTIAL_BYTES / (Float.BYTES + dtype.bytes()) + 37, rnd);
        check(MatMul.withBits(bits), wide, 1, rnd);
    }

    @Test
    void preferredWidthsMatchTheReference() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (DType dtype : DType.values()) {
            if (dtype.isQuantized()) continue; // block formats: QuantKernelTest
            Tensor w = randomTensor(dtype, 37, 91, rnd);
            for (int tokens : new int[] {1, 5}) check(MatMul.preferred(), w, tokens, rnd);
        }
    }

    /**
     * The same product gives the same bits on its first, interpreted run and after the JIT has
     * compiled the kernels: every sum is added in a fixed order (lanes included).
     */
    @Test
    void resultsDoNotChangeOnceCompiled() {
        SplittableRandom rnd = new SplittableRandom(9);
        for (DType dtype : DType.values()) {
            if (dtype.isQuantized()) continue; // block formats: QuantKernelTest
            Tensor w = randomTensor(dtype, 64, 777, rnd);
            float[] x = randomFloats(5 * 777, rnd);
            for (int bits : widths()) {
                for (MatMul mm : bothRowOrders(bits)) {
                    for (int tokens : new int[] {1, 5}) {
                        float[] first = new float[tokens * 64], again = new float[tokens * 64];
                        mm.multiply(w, x, first, tokens);
                        for (int i = 0; i < 3000; i++) mm.multiply(w, x, again, tokens);
                        for (int r = 0; r < first.length; r++) {
                            assertEquals(Float.floatToRawIntBits(first[r]), Float.floatToRawIntBits(again[r]), dtype + " " + mm + " tokens=" + tokens + " out[" + r + "]");
                        }
                    }
                }
            }
        }
    }

    /** Products run as one loop give exactly what each gives alone, for one token and for several. */
    @Test
    void loopsRunTogetherGiveTheSameProducts() {
        SplittableRandom rnd = new SplittableRandom(9);
        Tensor a = randomTensor(DType.BF16, 2304, 64, rnd), b = randomTensor(DType.F32, 33, 257, rnd), c = randomTensor(DType.F16, 130, 100, rnd);
        for (int tokens : new int[] {1, 5}) {
            float[] xa = randomFloats(tokens * 64, rnd), xb = randomFloats(tokens * 257, rnd), xc = randomFloats(tokens * 100, rnd);
            float[] ya = new float[tokens * 2304], yb = new float[tokens * 33], yc = new float[tokens * 130];
            Parallel.forAll(MatMul.work(a, xa, ya, tokens, 0).loops()[0], MatMul.work(b, xb, yb, tokens, 0).loops()[0], MatMul.work(c, xc, yc, tokens, 0).loops()[0]);
            float[] ea = new float[ya.length], eb = new float[yb.length], ec = new float[yc.length];
            MatMul.matmul(a, xa, ea, tokens);
            MatMul.matmul(b, xb, eb, tokens);
            MatMul.matmul(c, xc, ec, tokens);
            assertArrayEquals(ea, ya);
            assertArrayEquals(eb, yb);
            assertArrayEquals(ec, yc);
        }
    }

    @Test
    void leavesOutputBeyondTokensUntouched() {
        SplittableRandom rnd = new SplittableRandom(5);
        Tensor w = randomTensor(DType.F32, 6, 20, rnd);
        float[] out = new float[3 * 6];
        java.util.Arrays.fill(out, 42f);
        MatMul.matmul(w, randomFloats(3 * 20, rnd), out, 2);
        for (int i = 2 * 6; i < out.length; i++) assertEquals(42f, out[i]);
    }

    @Test
    void rejectsBadArguments() {
        Tensor w = Tensor.of("blocks.0.w", new float[12], 3, 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(w, new float[7], new float[6], 2))
                .getMessage().contains("blocks.0.w"));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(w, new float[8], new float[5], 2));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(w, new float[8], new float[6], 0));
        Tensor v = Tensor.of("bias", new float[4], 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(v, new float[4], new float[1], 1))
                .getMessage().contains("not a matrix"));
        assertThrows(IllegalArgumentException.class, () -> MatMul.withBits(384));
    }

    /**
     * Every 16-bit pattern, subnormals and infinities included, widens as the scalar conversions
     * do, in the one-token and the four-token kernels. Row r holds pattern r in column
     * {@code r % tokens} and zeros elsewhere, and token t is one-hot at column t, so
     * {@code out[r % tokens][r]} is the widened pattern (plus zeros, which turn -0 into +0).
     */
    @Test
    void widensEveryHalfAndBfloat16Pattern() {
        int n = 1 << 16, cols = 16;
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            for (int tokens : new int[] {1, cols}) {
                MemorySegment seg = Arena.ofAuto().allocate(2L * n * cols);
                for (int r = 0; r < n; r++) seg.setAtIndex(U16, (long) r * cols + r % tokens, (short) r);
                Tensor w = new Tensor("patterns", dtype, new long[] {n, cols}, seg);
                float[] x = new float[tokens * cols];
                for (int t = 0; t < tokens; t++) x[t * cols + t] = 1;
                for (int bits : widths()) for (MatMul mm : bothRowOrders(bits)) checkPatterns(mm, w, x, tokens);
            }
        }
    }

    private static void checkPatterns(MatMul mm, Tensor w, float[] x, int tokens) {
        int n = w.dim(0);
        float[] out = new float[tokens * n];
        mm.multiply(w, x, out, tokens);
        for (int r = 0; r < n; r++) {
            float expected = (w.dtype() == DType.F16 ? Float.float16ToFloat((short) r) : Float.intBitsToFloat(r << 16)) + 0f;
            float got = out[(r % tokens) * n + r];
            String what = w.dtype() + " " + mm + ", " + tokens + " tokens, pattern 0x" + Integer.toHexString(r);
            if (Float.isNaN(expected)) assertTrue(Float.isNaN(got), what);
            else assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got), what);
        }
    }

    private static void check(MatMul mm, Tensor w, int tokens, SplittableRandom rnd) {
        int rows = w.dim(0), cols = w.dim(1);
        float[] x = randomFloats(tokens * cols, rnd);
        float[] out = new float[tokens * rows];
        mm.multiply(w, x, out, tokens);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0, abs = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double) w.get((long) r * cols + c) * x[t * cols + c];
                    sum += p;
                    abs += Math.abs(p);
                }
                // float32 rounding of a few hundred sequential adds stays far below 1e-5 of the
                // absolute sum, while a wrong or missing term shifts it by about abs / cols >= 1e-3 abs
                double tol = 1e-5 * abs + 1e-30;
                float got = out[t * rows + r];
                int tt = t, rr = r;
                assertEquals(sum, got, tol, () -> mm + " " + w + " tokens=" + tokens + " t=" + tt + " r=" + rr);
            }
        }
    }

    /** A tensor in a native segment starting at an odd address, as mapped tensors may. */
    private static Tensor randomTensor(DType dtype, int rows, int cols, SplittableRandom rnd) {
        long n = (long) rows * cols;
        MemorySegment seg = Arena.ofAuto().allocate(n * dtype.bytes() + 1).asSlice(1);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextGaussian();
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, v);
                case F16 -> seg.setAtIndex(U16, i, Float.floatToFloat16(v));
                case BF16 -> seg.setAtIndex(U16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        return new Tensor("w" + dtype, dtype, new long[] {rows, cols}, seg);
    }

    private static float[] randomFloats(int n, SplittableRandom rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
