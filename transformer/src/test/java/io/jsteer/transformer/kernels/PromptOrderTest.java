/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The prompt order is a scalar loop of fused multiply-adds in column order, bit for bit, at every
 * vector width; rows past a product's prompt rows take the order of one token, as alone.
 */
class PromptOrderTest {
    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16", "F16", "Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void eachOutputIsASequentialFmaOverTheColumns(DType t) {
        SplittableRandom rnd = new SplittableRandom(31 + t.ordinal());
        for (int rows : new int[] {1, 7, 53}) {
            for (int cols : t.isQuantized() ? new int[] {256, 768, 1280} : new int[] {5, 300, 517, 1100}) {
                Tensor w = randomTensor(t, rows, cols, rnd);
                float[] wf = w.toFloatArray();
                for (int tokens : new int[] {1, 3, 17, 70}) {
                    float[] x = QuantKernelTest.randomFloats(tokens * cols, rnd), out = new float[tokens * rows];
                    int bits = new int[] {128, 256, 512}[Math.floorMod(tokens + cols, 3)];
                    run(MatMul.withBits(Math.min(bits, MatMul.maxBits())), w, x, out, tokens, tokens);
                    assertSequentialFma(wf, x, out, rows, cols, tokens, t + " " + rows + "x" + cols + ", " + tokens + " tokens");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "Q4_K"})
    void aLongPromptIsTakenInChunksOfTokensAlike(DType t) {
        SplittableRandom rnd = new SplittableRandom(11 + t.ordinal());
        Tensor w = randomTensor(t, 37, 256, rnd);
        float[] x = QuantKernelTest.randomFloats(600 * 256, rnd), out = new float[600 * 37];
        run(MatMul.preferred(), w, x, out, 600, 600);
        assertSequentialFma(w.toFloatArray(), x, out, 37, 256, 600, t.toString());
    }

    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16", "Q8_0"})
    void rowsOfAWideProductAreTakenInSuperBlocksAlike(DType t) {
        // more columns than one widened panel holds and rows for several super-blocks, so the
        // kernel carries each row's sums over panels of columns while other rows' sums wait
        SplittableRandom rnd = new SplittableRandom(17 + t.ordinal());
        int rows = 2 * 384 + 53, cols = 2304, tokens = 100;
        Tensor w = randomTensor(t, rows, cols, rnd);
        float[] x = QuantKernelTest.randomFloats(tokens * cols, rnd), out = new float[tokens * rows];
        run(MatMul.preferred(), w, x, out, tokens, tokens);
        assertSequentialFma(w.toFloatArray(), x, out, rows, cols, tokens, t.toString());
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16"})
    void columnsPastTheLastWholeBlockTakeNothingFromAnEarlierProduct(DType t) {
        // the kernel's blocks of columns run whole, the columns past a product's own padded: an
        // earlier product's NaN weights and inputs there must not reach a later product's sums
        SplittableRandom rnd = new SplittableRandom(23 + t.ordinal());
        int rows = 7, tokens = 100;
        Tensor nan = randomTensor(t, rows, 384, rnd);
        nan.data().fill((byte) 0xff);
        float[] nanX = new float[tokens * 384];
        java.util.Arrays.fill(nanX, Float.NaN);
        run(MatMul.preferred(), nan, nanX, new float[tokens * rows], tokens, tokens);
        Tensor w = randomTensor(t, rows, 300, rnd);
        float[] x = QuantKernelTest.randomFloats(tokens * 300, rnd), out = new float[tokens * rows];
        run(MatMul.preferred(), w, x, out, tokens, tokens);
        assertSequentialFma(w.toFloatArray(), x, out, rows, 300, tokens, t.toString());
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16"})
    void aSumThatUnderflowsToMinusZeroStaysMinusZero(DType t) {
        // the last column's product underflows: the sum is -0, which the kernel's padding
        // columns past the product's own must leave as it is
        int rows = 3, cols = 5, tokens = 100;
        float[] wf = new float[rows * cols], x = new float[tokens * cols], out = new float[tokens * rows];
        for (int r = 0; r < rows; r++) wf[r * cols + cols - 1] = -1e-23f;
        for (int tt = 0; tt < tokens; tt++) x[tt * cols + cols - 1] = 1e-23f;
        Tensor w = fromFloats(t, wf, rows, cols);
        run(MatMul.preferred(), w, x, out, tokens, tokens);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(out[0]), t + ": out[0][0]");
        assertSequentialFma(w.toFloatArray(), x, out, rows, cols, tokens, t.toString());
    }

    /** Each {@code out[t][r]} is bit for bit {@code acc = fma(W[r][c], x[t][c], acc)} over c from 0, of the decoded weights {@code wf}. */
    private static void assertSequentialFma(float[] wf, float[] x, float[] out, int rows, int cols, int tokens, String what) {
        for (int tt = 0; tt < tokens; tt++) {
            for (int r = 0; r < rows; r++) {
                float acc = 0;
                for (int c = 0; c < cols; c++) acc = Math.fma(wf[r * cols + c], x[tt * cols + c], acc);
                assertEquals(Float.floatToRawIntBits(acc), Float.floatToRawIntBits(out[tt * rows + r]), what + ": out[" + tt + "][" + r + "]");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"BF16", "Q8_0"})
    void rowsPastThePromptRowsAreThoseOfOneToken(DType t) {
        SplittableRandom rnd = new SplittableRandom(7 + t.ordinal());
        int rows = 37, cols = 512, tokens = 21;
        Tensor w = randomTensor(t, rows, cols, rnd);
        float[] x = QuantKernelTest.randomFloats(tokens * cols, rnd);
        for (int promptRows : new int[] {0, 1, 17, tokens}) {
            float[] out = new float[tokens * rows], prompt = new float[tokens * rows];
            run(MatMul.preferred(), w, x, out, tokens, promptRows);
            run(MatMul.preferred(), w, x, prompt, tokens, tokens);
            for (int tt = 0; tt < tokens; tt++) {
                float[] alone = new float[rows];
                MatMul.matmul(w, java.util.Arrays.copyOfRange(x, tt * cols, (tt + 1) * cols), alone, 1);
                for (int r = 0; r < rows; r++) {
                    float expected = tt < promptRows ? prompt[tt * rows + r] : alone[r];
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[tt * rows + r]),
                            t + ", " + promptRows + " prompt rows: out[" + tt + "][" + r + "]");
                }
            }
        }
    }

    private static void run(MatMul mm, Tensor w, float[] x, float[] out, int tokens, int promptRows) {
        mm.products(w, x, out, tokens, promptRows).run();
    }

    private static Tensor randomTensor(DType t, int rows, int cols, SplittableRandom rnd) {
        return t.isQuantized() ? QuantKernelTest.randomTensor(t, rows, cols, rnd) : dense(t, rows, cols, rnd);
    }

    private static Tensor fromFloats(DType t, float[] values, int rows, int cols) {
        MemorySegment s = MemorySegment.ofArray(new byte[rows * cols * t.bytes()]);
        for (int i = 0; i < rows * cols; i++) {
            switch (t) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, values[i]);
                case BF16 -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return new Tensor("w", t, new long[] {rows, cols}, s);
    }

    private static Tensor dense(DType t, int rows, int cols, SplittableRandom rnd) {
        MemorySegment s = MemorySegment.ofArray(new byte[rows * cols * t.bytes()]);
        ValueLayout.OfShort u16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) {
            float v = (float) rnd.nextGaussian();
            switch (t) {
                case F32 -> s.setAtIndex(f32, i, v);
                case BF16 -> s.setAtIndex(u16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> s.setAtIndex(u16, i, Float.floatToFloat16(v));
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return new Tensor("w", t, new long[] {rows, cols}, s);
    }
}
