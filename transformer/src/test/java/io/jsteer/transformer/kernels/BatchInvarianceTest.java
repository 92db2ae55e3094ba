/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batch-invariance guarantee of {@link MatMul}: a token's output row has the same bits
 * whether it is multiplied alone or at any position of a product of 1-9 or 17 tokens (the kernel
 * for a few tokens and the packed one), through
 * the one-token kernel reading rows two at a time (x in L1) or four at a time, and however the
 * rows are split among threads.
 */
class BatchInvarianceTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Distinct tokens; batches take runs of them starting anywhere, so each sits at every position. */
    private static final int POOL = 17;
    private static final int[] BATCHES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17};
    /** Rows not a multiple of the kernels' blocks; columns with and without an odd chunk and a scalar tail at every width. */
    private static final int ROWS = 13;
    private static final int[] COLS = {5, 48, 100, 333};

    static Stream<Arguments> widthsAndTypes() {
        List<Arguments> list = new ArrayList<>();
        for (int bits : IntStream.of(128, 256, 512).filter(b -> b <= MatMul.maxBits()).toArray()) {
            for (DType t : DType.values()) if (!t.isQuantized()) list.add(Arguments.of(bits, t)); // block formats: QuantKernelTest
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} bits {1}")
    @MethodSource("widthsAndTypes")
    void aTokensOutputIsTheSameAloneAndAtEveryPositionOfEveryBatch(int bits, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(bits * 131L + dtype.ordinal());
        MatMul twoRows = MatMul.withBits(bits, Integer.MAX_VALUE), fourRows = MatMul.withBits(bits, 0);
        for (int cols : COLS) {
            Tensor w = randomTensor(dtype, ROWS, cols, rnd);
            float[] pool = new float[POOL * cols];
            for (int i = 0; i < pool.length; i++) pool[i] = (float) rnd.nextGaussian();
            float[][] alone = new float[POOL][ROWS];
            for (int k = 0; k < POOL; k++) {
                float[] x = java.util.Arrays.copyOfRange(pool, k * cols, (k + 1) * cols);
                twoRows.multiply(w, x, alone[k], 1);
                float[] blocked = new float[ROWS];
                fourRows.multiply(w, x, blocked, 1);
                assertSameBits(alone[k], 0, blocked, dtype + " " + bits + " bits, " + cols + " cols, token " + k + " two vs four rows at a time");
            }
            for (int n : BATCHES) {
                for (int start = 0; start < POOL; start++) {
                    float[] x = new float[n * cols];
                    for (int i = 0; i < n; i++) System.arraycopy(pool, (start + i) % POOL * cols, x, i * cols, cols);
                    float[] out = new float[n * ROWS];
                    twoRows.multiply(w, x, out, n);
                    for (int i = 0; i < n; i++) {
                        int k = (start + i) % POOL;
                        assertSameBits(alone[k], i * ROWS, out, dtype + " " + bits + " bits, " + cols + " cols, token " + k + " at position " + i + " of " + n);
                    }
                }
            }
        }
    }

    /**
     * Past one block of columns and one group of tokens, the several-token kernel keeps its
     * accumulators in memory between blocks: every token of 257 over 2100 columns (two groups of
     * tokens, a last partial tile of tokens, rows and columns) still gets the bits it gets alone.
     */
    @ParameterizedTest(name = "{0} bits {1}")
    @MethodSource("widthsAndTypes")
    void blocksOfColumnsAndGroupsOfTokensKeepTheOrder(int bits, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(bits * 17L + dtype.ordinal());
        MatMul mm = MatMul.withBits(bits);
        int rows = 5, cols = 2100, tokens = 257;
        Tensor w = randomTensor(dtype, rows, cols, rnd);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] out = new float[tokens * rows];
        mm.multiply(w, x, out, tokens);
        for (int t = 0; t < tokens; t++) {
            float[] alone = new float[rows];
            mm.multiply(w, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), alone, 1);
            assertSameBits(alone, t * rows, out, dtype + " " + bits + " bits, token " + t + " of " + tokens);
        }
    }

    /**
     * Rows computed in separate calls, as threads take them, give the bits of one call over all
     * rows. With 6 and 17 tokens the kernels for a few tokens and for many finish whole vectors of
     * rows at once in the one call (blocks of 16 rows) and row by row in the short calls.
     */
    @ParameterizedTest(name = "{0} bits {1}")
    @MethodSource("widthsAndTypes")
    void resultsDoNotDependOnHowRowsAreSplit(int bits, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(bits + 7L * dtype.ordinal());
        Kernel k = Kernels.of(bits);
        int rows = 37, cols = 333;
        Tensor w = randomTensor(dtype, rows, cols, rnd);
        for (int tokens : new int[] {1, 6, 17}) {
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            // the one-token kernel reads BF16 x with its columns split; the several-token one lays x out itself
            float[] in = dtype == DType.BF16 && tokens == 1 ? k.bf16Input(x, cols, tokens) : x;
            float[] whole = new float[tokens * rows], split = new float[tokens * rows];
            run(k, w, in, whole, tokens, 0, rows, new Object());
            // one product, as the threads taking its chunks share it
            Object product = new Object();
            for (int r = 0; r < rows; r += 4 * (1 + r % 3)) run(k, w, in, split, tokens, r, Math.min(rows, r + 4 * (1 + r % 3)), product);
            assertSameBits(whole, 0, split, dtype + " " + bits + " bits, " + tokens + " tokens, rows split");
        }
    }

    private static void run(Kernel k, Tensor w, float[] x, float[] out, int tokens, int r0, int r1, Object product) {
        int rows = w.dim(0), cols = w.dim(1);
        if (tokens == 1) k.matvec(w.dtype(), w.data(), rows, cols, x, out, r0, r1, r0 % 8 == 0);
        else k.matmul(w.dtype(), w.data(), rows, cols, x, out, tokens, r0, r1, product);
    }

    private static void assertSameBits(float[] expected, int at, float[] got, String what) {
        for (int r = 0; r < expected.length; r++) {
            int rr = r;
            assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(got[at + r]), () -> what + ", row " + rr);
        }
    }

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
}
