/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

import io.jsteer.weights.DType;
import io.jsteer.weights.Quants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products against weights in ggml's block formats ({@link DType#isQuantized()}), decoded in
 * registers as they are loaded: 16 (or 8) int8 or 4-bit values widen to a float vector, multiply x,
 * and each block's sum is scaled once by its float16 scale.
 *
 * <p>Every {@code out[t][r]} is computed by the same operations in the same order however many
 * tokens share the call and wherever the token falls in a tile: a row is multiplied into up to four
 * tokens at a time (the row's bytes decoded once for the four), and the per-token arithmetic of
 * that tile is exactly the one-token loop's. Within a block the partial products are added as a
 * fixed tree; blocks alternate between two accumulators, which are added, then their lanes summed
 * in a fixed order. The K-quants (256-element super-blocks with 6- or 8-bit sub-block scales) are
 * decoded a row at a time into a float32 scratch row, vectorised but with ggml's own operations, so
 * the scratch holds exactly {@link Quants}' values; each token then takes a fixed-order dot
 * product with it. A single token (decode) skips the scratch for Q4_K and Q6_K: each decoded
 * vector goes straight into that same dot product, in the same order, so the sums are the same.
 *
 * <p>Vectors are as wide as those of the BF16 products, but at least 256 bits: a load of 16
 * (or 8) bytes widens to one float vector. The width is part of the order of the sums, so it is
 * fixed per kind of CPU as {@link MatMul} fixes it, never timed.
 */
final class QuantKernel {
    private QuantKernel() {}

    /** float32 lanes: those of the BF16 products (see {@link MatMul}), at least 256 bits. */
    private static final VectorSpecies<Float> F = MatMul.preferred().bf16Bits() >= 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** One byte per float lane: a load widens to one float vector. */
    private static final VectorSpecies<Byte> B = F.length() == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final VectorShuffle<Float> ROT8 = VectorShuffle.iota(F, 8, 1, true), ROT4 = VectorShuffle.iota(F, 4, 1, true),
            ROT2 = VectorShuffle.iota(F, 2, 1, true), ROT1 = VectorShuffle.iota(F, 1, 1, true);

    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens} and rows {@code [r0, r1)}
     * of {@code W[rows][cols]} stored as {@code dtype} at the start of {@code w}.
     */
    static void matmul(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1) {
        long rowBytes = dtype.bytesOf(cols);
        switch (dtype) {
            case Q8_0, Q4_0 -> {
                boolean q8 = dtype == DType.Q8_0;
                int blocks = cols / 32;
                float[] acc = new float[4];
                for (int r = r0; r < r1; r++) {
                    long at = r * rowBytes;
                    int t = 0;
                    for (; t + 4 <= tokens; t += 4) {
                        if (q8) tileQ8(w, at, x, t * cols, cols, blocks, acc);
                        else tileQ4(w, at, x, t * cols, cols, blocks, acc);
                        for (int j = 0; j < 4; j++) out[(t + j) * rows + r] = acc[j];
                    }
                    for (; t < tokens; t++) out[t * rows + r] = q8 ? rowQ8(w, at, x, t * cols, blocks) : rowQ4(w, at, x, t * cols, blocks);
                }
            }
            case Q5_0, Q4_K, Q5_K, Q6_K -> {
                if (tokens == 1 && (dtype == DType.Q4_K || dtype == DType.Q6_K)) {
                    // one token: each decoded vector goes straight into the product, in the scratch
                    // row's order, so the scratch's stores and loads are saved and the sums are dot's
                    int[] scMin = new int[2];
                    for (int r = r0; r < r1; r++)
                        out[r] = dtype == DType.Q6_K ? rowQ6K(w, r * rowBytes, x, cols) : rowQ4K(w, r * rowBytes, x, cols, scMin);
                    return;
                }
                float[] row = new float[cols];
                for (int r = r0; r < r1; r++) {
                    decodeRow(dtype, w, r * rowBytes, cols, row);
                    for (int t = 0; t < tokens; t++) out[t * rows + r] = dot(row, x, t * cols, cols);
                }
            }
            default -> throw new IllegalArgumentException(dtype + " is not a block format");
        }
    }

    /** The lanes of {@code v} added in a fixed tree order (see {@code VectorKernel.sum}). */
    private static float sum(FloatVector v) {
        if (L > 8) v = v.add(v.rearrange(ROT8));
        v = v.add(v.rearrange(ROT4));
        v = v.add(v.rearrange(ROT2));
        return v.add(v.rearrange(ROT1)).lane(0);
    }

    private static FloatVector xv(float[] x, int at) {
        return FloatVector.fromArray(F, x, at);
    }

    private static FloatVector scale(MemorySegment w, long at) {
        return FloatVector.broadcast(F, Float.float16ToFloat(w.get(U16, at)));
    }

    /** L int8 values widened to floats. */
    private static FloatVector q8(MemorySegment w, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B, w, at, LE).convertShape(B2F, F, 0);
    }

    /** The low nibbles of L bytes, less 8, as floats. */
    private static FloatVector low4(ByteVector v) {
        return (FloatVector) v.and((byte) 0x0f).sub((byte) 8).convertShape(B2F, F, 0);
    }

    /** The high nibbles of L bytes, less 8, as floats. */
    private static FloatVector high4(ByteVector v) {
        return (FloatVector) v.lanewise(LSHR, 4).sub((byte) 8).convertShape(B2F, F, 0);
    }

    /**
     * One block's 32 weights {@code w0..} (L each, in column order; {@code w2, w3} unused at 16
     * lanes) times {@code x[c..c + 32)}: at 16 lanes {@code w1 x1 + w0 x0} fused, at 8 lanes
     * {@code (w0 x0 + w1 x1) + (w2 x2 + w3 x3)}, unfused.
     */
    private static FloatVector block(FloatVector w0, FloatVector w1, FloatVector w2, FloatVector w3, float[] x, int c) {
        if (L == 16) return w1.fma(xv(x, c + 16), w0.mul(xv(x, c)));
        return w0.mul(xv(x, c)).add(w1.mul(xv(x, c + 8))).add(w2.mul(xv(x, c + 16)).add(w3.mul(xv(x, c + 24))));
    }

    /** The 32 weights of the Q8_0 block at {@code o} times {@code x[c..]} (see {@link #block}). */
    private static FloatVector blockQ8(MemorySegment w, long o, float[] x, int c) {
        if (L == 16) return block(q8(w, o + 2), q8(w, o + 18), null, null, x, c);
        return block(q8(w, o + 2), q8(w, o + 10), q8(w, o + 18), q8(w, o + 26), x, c);
    }

    /** One Q8_0 row (34-byte blocks: float16 d, 32 int8) times {@code x[xo..]}: block {@code b} into accumulator {@code b % 2}. */
    private static float rowQ8(MemorySegment w, long at, float[] x, int xo, int blocks) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = at + 34L * b;
            int c = xo + 32 * b;
            a0 = blockQ8(w, o, x, c).fma(scale(w, o), a0);
            a1 = blockQ8(w, o + 34, x, c + 32).fma(scale(w, o + 34), a1);
        }
        if (b < blocks) {
            long o = at + 34L * b;
            a0 = blockQ8(w, o, x, xo + 32 * b).fma(scale(w, o), a0);
        }
        return sum(a0.add(a1));
    }

    /**
     * One Q8_0 row times four tokens {@code x[xo..]}, {@code x[xo + cols..]}, ... into
     * {@code acc[0..4)}: each block decoded once, each token's arithmetic that of {@link #rowQ8}.
     */
    private static void tileQ8(MemorySegment w, long at, float[] x, int xo, int cols, int blocks, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int x1 = xo + cols, x2 = x1 + cols, x3 = x2 + cols;
        for (int b = 0; b < blocks; b++) {
            long o = at + 34L * b;
            int c = 32 * b;
            FloatVector w0, w1, w2 = null, w3 = null, d = scale(w, o);
            if (L == 16) {
                w0 = q8(w, o + 2);
                w1 = q8(w, o + 18);
            } else {
                w0 = q8(w, o + 2);
                w1 = q8(w, o + 10);
                w2 = q8(w, o + 18);
                w3 = q8(w, o + 26);
            }
            FloatVector s0 = block(w0, w1, w2, w3, x, xo + c), s1 = block(w0, w1, w2, w3, x, x1 + c);
            FloatVector s2 = block(w0, w1, w2, w3, x, x2 + c), s3 = block(w0, w1, w2, w3, x, x3 + c);
            if ((b & 1) == 0) {
                a0 = s0.fma(d, a0);
                b0 = s1.fma(d, b0);
                c0 = s2.fma(d, c0);
                d0 = s3.fma(d, d0);
            } else {
                a1 = s0.fma(d, a1);
                b1 = s1.fma(d, b1);
                c1 = s2.fma(d, c1);
                d1 = s3.fma(d, d1);
            }
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
        acc[2] = sum(c0.add(c1));
        acc[3] = sum(d0.add(d1));
    }

    /**
     * The 32 weights of the Q4_0 block at {@code o} times {@code x[c..]} (see {@link #block}):
     * byte {@code i} of the 16 holds column {@code i} in its low nibble and {@code i + 16} in its high one.
     */
    private static FloatVector blockQ4(MemorySegment w, long o, float[] x, int c) {
        if (L == 16) {
            ByteVector q = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            return block(low4(q), high4(q), null, null, x, c);
        }
        ByteVector lo = ByteVector.fromMemorySegment(B, w, o + 2, LE), hi = ByteVector.fromMemorySegment(B, w, o + 10, LE);
        return block(low4(lo), low4(hi), high4(lo), high4(hi), x, c);
    }

    /** One Q4_0 row (18-byte blocks: float16 d, 16 bytes of nibbles) times {@code x[xo..]}. */
    private static float rowQ4(MemorySegment w, long at, float[] x, int xo, int blocks) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long o = at + 18L * b;
            FloatVector s = blockQ4(w, o, x, xo + 32 * b);
            if ((b & 1) == 0) a0 = s.fma(scale(w, o), a0);
            else a1 = s.fma(scale(w, o), a1);
        }
        return sum(a0.add(a1));
    }

    /** As {@link #tileQ8} for Q4_0, each token's arithmetic that of {@link #rowQ4}. */
    private static void tileQ4(MemorySegment w, long at, float[] x, int xo, int cols, int blocks, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int x1 = xo + cols, x2 = x1 + cols, x3 = x2 + cols;
        for (int b = 0; b < blocks; b++) {
            long o = at + 18L * b;
            int c = 32 * b;
            FloatVector w0, w1, w2 = null, w3 = null, d = scale(w, o);
            if (L == 16) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, o + 2, LE);
                w0 = low4(q);
                w1 = high4(q);
            } else {
                ByteVector lo = ByteVector.fromMemorySegment(B, w, o + 2, LE), hi = ByteVector.fromMemorySegment(B, w, o + 10, LE);
                w0 = low4(lo);
                w1 = low4(hi);
                w2 = high4(lo);
                w3 = high4(hi);
            }
            FloatVector s0 = block(w0, w1, w2, w3, x, xo + c), s1 = block(w0, w1, w2, w3, x, x1 + c);
            FloatVector s2 = block(w0, w1, w2, w3, x, x2 + c), s3 = block(w0, w1, w2, w3, x, x3 + c);
            if ((b & 1) == 0) {
                a0 = s0.fma(d, a0);
                b0 = s1.fma(d, b0);
                c0 = s2.fma(d, c0);
                d0 = s3.fma(d, d0);
            } else {
                a1 = s0.fma(d, a1);
                b1 = s1.fma(d, b1);
                c1 = s2.fma(d, c1);
                d1 = s3.fma(d, d1);
            }
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
        acc[2] = sum(c0.add(c1));
        acc[3] = sum(d0.add(d1));
    }

    private static ByteVector bytes(MemorySegment w, long at) {
        return ByteVector.fromMemorySegment(B, w, at, LE);
    }

    private static FloatVector toFloat(ByteVector v) {
        return (FloatVector) v.convertShape(B2F, F, 0);
    }

    /**
     * Row {@code at} of {@code cols} K-quant elements into {@code row}, element for element the
     * float ggml's {@code dequantize_row_q4_K / q5_K / q6_K} gives: {@code d * sc * q - dmin * m}
     * (Q4_K, Q5_K) and {@code d * sc * (q - 32)} (Q6_K), with the scale products formed as there.
     */
    static void decodeRow(DType t, MemorySegment w, long at, int cols, float[] row) {
        if (t == DType.Q5_0) {
            // only llama-quantize's fallback for short rows: decoded as the reference does it
            for (int b = 0; b < cols / 32; b++) Quants.dequantizeBlock(t, w, at + (long) b * t.blockBytes(), row, b * 32);
            return;
        }
        int[] scMin = new int[2];
        for (int b = 0; b < cols / Quants.QK_K; b++) {
            long o = at + (long) b * t.blockBytes();
            // one method per format: a loop body this large in one method stops C2 inlining the
            // vector calls, which then box their vectors (a Q4_K_M token measured 3x slower)
            if (t == DType.Q6_K) decodeQ6K(w, o, row, b * Quants.QK_K);
            else decodeQ45K(w, o, row, b * Quants.QK_K, t == DType.Q5_K, scMin);
        }
    }

    /** The Q6_K super-block at {@code o} into {@code row[y..y + 256)}. */
    private static void decodeQ6K(MemorySegment w, long o, float[] row, int y) {
        float d = Float.float16ToFloat(w.get(U16, o + 208));
        for (int n = 0; n < 2; n++, y += 128) {
            long ql = o + 64L * n, qh = o + 128 + 32L * n, sc = o + 192 + 8L * n;
            for (int l = 0; l < 32; l += L) {
                int is = l / 16;
                ByteVector lo0 = bytes(w, ql + l), lo1 = bytes(w, ql + l + 32), h = bytes(w, qh + l);
                ByteVector q1 = lo0.and((byte) 0xf).or(h.and((byte) 3).lanewise(LSHL, 4)).sub((byte) 32);
                ByteVector q2 = lo1.and((byte) 0xf).or(h.lanewise(LSHR, 2).and((byte) 3).lanewise(LSHL, 4)).sub((byte) 32);
                ByteVector q3 = lo0.lanewise(LSHR, 4).or(h.lanewise(LSHR, 4).and((byte) 3).lanewise(LSHL, 4)).sub((byte) 32);
                ByteVector q4 = lo1.lanewise(LSHR, 4).or(h.lanewise(LSHR, 6).lanewise(LSHL, 4)).sub((byte) 32);
                toFloat(q1).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is)).intoArray(row, y + l);
                toFloat(q2).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 2)).intoArray(row, y + l + 32);
                toFloat(q3).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 4)).intoArray(row, y + l + 64);
                toFloat(q4).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 6)).intoArray(row, y + l + 96);
            }
        }
    }

    /** The Q4_K (or, when {@code five}, Q5_K) super-block at {@code o} into {@code row[y..y + 256)}. */
    private static void decodeQ45K(MemorySegment w, long o, float[] row, int y, boolean five, int[] scMin) {
        float d = Float.float16ToFloat(w.get(U16, o)), min = Float.float16ToFloat(w.get(U16, o + 2));
        long scales = o + 4, qh = o + 16, ql = five ? o + 48 : o + 16;
        for (int j = 0, is = 0; j < 4; j++, is += 2, ql += 32, y += 64) {
            Quants.scaleMinK4(is, w, scales, scMin);
            float d1 = d * scMin[0], m1 = min * scMin[1];
            Quants.scaleMinK4(is + 1, w, scales, scMin);
            float d2 = d * scMin[0], m2 = min * scMin[1];
            for (int l = 0; l < 32; l += L) {
                ByteVector q = bytes(w, ql + l), lo = q.and((byte) 0xf), hi = q.lanewise(LSHR, 4);
                if (five) {
                    ByteVector h = bytes(w, qh + l);
                    lo = lo.or(h.lanewise(LSHR, is).and((byte) 1).lanewise(LSHL, 4));
                    hi = hi.or(h.lanewise(LSHR, is + 1).and((byte) 1).lanewise(LSHL, 4));
                }
                toFloat(lo).mul(d1).sub(m1).intoArray(row, y + l);
                toFloat(hi).mul(d2).sub(m2).intoArray(row, y + 32 + l);
            }
        }
    }

    /**
     * One Q4_K row times {@code x[0..cols)}: {@link #decodeQ45K}'s values taken in column order
     * into {@link #dot}'s two accumulators (vector {@code i} into accumulator {@code i % 2}, here by
     * swapping them after each vector), so the result is bit for bit that of decode, then dot. One
     * vector per loop body: with more, the method passes C2's node budget for inlining
     * ({@code NodeCountInliningCutoff}), and the vector calls left out box their vectors.
     */
    private static float rowQ4K(MemorySegment w, long at, float[] x, int cols, int[] scMin) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0, c = 0; b < cols / Quants.QK_K; b++) {
            long o = at + (long) b * DType.Q4_K.blockBytes();
            float d = Float.float16ToFloat(w.get(U16, o)), min = Float.float16ToFloat(w.get(U16, o + 2));
            for (int s = 0; s < 8; s++) {
                Quants.scaleMinK4(s, w, o + 4, scMin);
                float ds = d * scMin[0], ms = min * scMin[1];
                long ql = o + 16 + 32L * (s >> 1);
                for (int l = 0; l < 32; l += L, c += L) {
                    ByteVector q = bytes(w, ql + l);
                    FloatVector v = toFloat((s & 1) == 0 ? q.and((byte) 0xf) : q.lanewise(LSHR, 4)).mul(ds).sub(ms).fma(xv(x, c), a0);
                    a0 = a1;
                    a1 = v;
                }
            }
        }
        return sum(a0.add(a1));
    }

    /**
     * One Q6_K row times {@code x[0..cols)}, as {@link #rowQ4K} for {@link #decodeQ6K}'s values:
     * quarter {@code k} of each 128-element half takes the low (k < 2) or high nibbles and bits
     * {@code 2k, 2k + 1} of the high-bit bytes, each picked by constant shifts (a byte shift by a
     * variable count is not intrinsified).
     */
    private static float rowQ6K(MemorySegment w, long at, float[] x, int cols) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0, c = 0; b < cols / Quants.QK_K; b++) {
            long o = at + (long) b * DType.Q6_K.blockBytes();
            float d = Float.float16ToFloat(w.get(U16, o + 208));
            for (int n = 0; n < 2; n++) {
                for (int k = 0; k < 4; k++) {
                    long ql = o + 64L * n + 32 * (k & 1), qh = o + 128 + 32L * n, sc = o + 192 + 8L * n + 2 * k;
                    for (int l = 0; l < 32; l += L, c += L) {
                        ByteVector lo = bytes(w, ql + l), h = bytes(w, qh + l);
                        lo = k < 2 ? lo.and((byte) 0xf) : lo.lanewise(LSHR, 4);
                        h = k == 0 ? h.and((byte) 3).lanewise(LSHL, 4)
                                : k == 1 ? h.and((byte) 0xc).lanewise(LSHL, 2) : k == 2 ? h.and((byte) 0x30) : h.lanewise(LSHR, 2).and((byte) 0x30);
                        FloatVector v = toFloat(lo.or(h).sub((byte) 32)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + l / 16)).fma(xv(x, c), a0);
                        a0 = a1;
                        a1 = v;
                    }
                }
            }
        }
        return sum(a0.add(a1));
    }

    /** {@code sum_c row[c] * x[xo + c]} over a decoded row, {@code n} a multiple of 32: two accumulators, alternate vectors. */
    private static float dot(float[] row, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int c = 0; c < n; c += 2 * L) {
            a0 = xv(row, c).fma(xv(x, xo + c), a0);
            a1 = xv(row, c + L).fma(xv(x, xo + c + L), a1);
        }
        return sum(a0.add(a1));
    }
}
