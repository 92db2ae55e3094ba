/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.weights.DType;
import io.jsteer.weights.Quants;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Products against ggml block formats: against a double-precision product of the decoded weights
 * ({@link Quants}, itself checked bit for bit against llama.cpp); bit for bit the float32 product
 * of the decoded matrix at the same vector width; and every {@code out[t][r]} the same bits
 * whatever the number of tokens in the call and the token's place among them (one token, a few,
 * and enough for the packed prefill tile).
 */
class QuantKernelTest {
    private static final int[] ROWS = {1, 3, 4, 5, 17};
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 8, 9, 16, 23};
    /** Most tokens of {@link #TOKENS}. */
    private static final int MOST = 23;

    /** Random blocks: random quant bytes, float16 scales of moderate size (random bytes there would give infinities). */
    static Tensor randomTensor(DType t, int rows, int cols, SplittableRandom rnd) {
        byte[] bytes = new byte[(int) t.bytesOf((long) rows * cols)];
        rnd.nextBytes(bytes);
        MemorySegment s = MemorySegment.ofArray(bytes);
        ValueLayout.OfShort u16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        int[] scales = switch (t) {
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException();
        };
        for (long b = 0; b < s.byteSize() / t.blockBytes(); b++) {
            for (int o : scales) s.set(u16, b * t.blockBytes() + o, Float.floatToFloat16((float) (rnd.nextDouble(-1, 1) / 64)));
        }
        return new Tensor("w", t, new long[] {rows, cols}, s);
    }

    static float[] randomFloats(int n, SplittableRandom rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void productsMatchTheDecodedWeights(DType t) {
        SplittableRandom rnd = new SplittableRandom(t.ordinal());
        for (int cols : new int[] {256, 512, 768}) {
            for (int rows : ROWS) {
                Tensor w = randomTensor(t, rows, cols, rnd);
                float[] decoded = w.toFloatArray();
                for (int tokens : TOKENS) {
                    float[] x = randomFloats(tokens * cols, rnd), out = new float[tokens * rows];
                    MatMul.matmul(w, x, out, tokens);
                    for (int tok = 0; tok < tokens; tok++) {
                        for (int r = 0; r < rows; r++) {
                            double exact = 0, mag = 0;
                            for (int c = 0; c < cols; c++) {
                                exact += (double) decoded[r * cols + c] * x[tok * cols + c];
                                mag += Math.abs((double) decoded[r * cols + c] * x[tok * cols + c]);
                            }
                            // float32 sums of `cols` terms: a few ulps of the magnitude
                            double err = Math.abs(out[tok * rows + r] - exact);
                            assertTrue(err <= 2e-6 * mag, t + " " + rows + "x" + cols + " tokens " + tokens + " [" + tok + "][" + r + "]: "
                                    + out[tok * rows + r] + " vs " + exact + " (error " + err / mag + " of the magnitude)");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void vectorDecodingIsQuantsBitForBit(DType t) {
        SplittableRandom rnd = new SplittableRandom(7 + t.ordinal());
        Tensor w = randomTensor(t, 3, 768, rnd);
        float[] want = w.toFloatArray();
        QuantKernel.RowDecoder decoder = new QuantKernel.RowDecoder(768);
        for (int r = 0; r < 3; r++) {
            float[] row = decoder.decode(t, w.data(), r * w.rowBytes(), 768);
            for (int c = 0; c < 768; c++) {
                assertEquals(Float.floatToRawIntBits(want[r * 768 + c]), Float.floatToRawIntBits(row[c]), t + " row " + r + " column " + c);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void eachOutputIsTheSameBitsWhateverTheTokenCount(DType t) {
        SplittableRandom rnd = new SplittableRandom(100 + t.ordinal());
        int rows = 13, cols = 512 + 256;
        Tensor w = randomTensor(t, rows, cols, rnd);
        float[] x = randomFloats(MOST * cols, rnd);
        float[][] alone = new float[MOST][rows];
        for (int tok = 0; tok < MOST; tok++) MatMul.matmul(w, java.util.Arrays.copyOfRange(x, tok * cols, (tok + 1) * cols), alone[tok], 1);
        for (int tokens : TOKENS) {
            for (int first = 0; first + tokens <= MOST; first += tokens > 9 ? 7 : 2) {
                float[] out = new float[tokens * rows];
                MatMul.matmul(w, java.util.Arrays.copyOfRange(x, first * cols, (first + tokens) * cols), out, tokens);
                for (int tok = 0; tok < tokens; tok++) {
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(alone[first + tok][r]), Float.floatToRawIntBits(out[tok * rows + r]),
                                t + ": token " + (first + tok) + " row " + r + " computed among " + tokens + " tokens");
                    }
                }
            }
        }
    }

    /**
     * The float32 products of the decoded matrix, at the width the quantized products use (that of
     * the BF16 products, at least 256 bits), are the very same bits: the two share one order of
     * the sums, so a quantized model is exactly its decoded float32 copy.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void productsAreThoseOfTheDecodedFloat32Matrix(DType t) {
        SplittableRandom rnd = new SplittableRandom(200 + t.ordinal());
        int rows = 37, cols = 2048 + 256;
        Tensor w = randomTensor(t, rows, cols, rnd);
        float[] decoded = w.toFloatArray();
        MemorySegment f32 = MemorySegment.ofArray(new byte[4 * decoded.length]);
        for (int i = 0; i < decoded.length; i++) f32.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, decoded[i]);
        Tensor dense = new Tensor("w", DType.F32, new long[] {rows, cols}, f32);
        MatMul width = MatMul.withBits(Math.max(256, MatMul.preferred().bf16Bits()));
        for (int tokens : TOKENS) {
            float[] x = randomFloats(tokens * cols, rnd), want = new float[tokens * rows], got = new float[tokens * rows];
            width.multiply(dense, x, want, tokens);
            MatMul.matmul(w, x, got, tokens);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                        t + " tokens " + tokens + ": out[" + i / rows + "][" + i % rows + "]");
            }
        }
    }
}
