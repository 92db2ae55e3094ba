/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.B2I;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ROL;

import io.jsteer.weights.DType;
import io.jsteer.weights.Quants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products against weights in ggml's block formats ({@link DType#isQuantized()}), decoded in
 * registers as they are loaded.
 *
 * <p>Every {@code out[t][r]} is bit for bit the float32 product, in {@link MatMul}'s order at
 * this class's vector width, of x with the row as ggml decodes it ({@link Quants}: {@code q * d}
 * for Q8_0, {@code d * sc * q - dmin * m} for Q4_K, ...): chunk {@code j} of L decoded weights
 * goes into accumulator {@code j % 2} by a fused multiply-add, the two accumulators are added,
 * then their lanes in a fixed tree. A quantized matrix therefore gives exactly what its decoded
 * float32 copy gives ({@code QuantKernelTest}), however many tokens share the call. The kernels
 * differ only in where the decoded values come from:
 * <ul>
 * <li>one token (decode): Q8_0 and Q4_0 widen each block's quants and multiply them by its scale
 *     in registers, two Q8_0 rows at a time at 16 lanes; Q4_K and Q6_K first form a row's scale
 *     products, then look a Q4_K quant's value up in its sub-block's table of 16, or assemble
 *     Q6_K's 6-bit quants in int lanes;</li>
 * <li>a few tokens (a batch of decoded sequences), and Q5_0 and Q5_K: each row is decoded once
 *     into a float32 scratch row, vectorised but with ggml's own operations, and four tokens take
 *     their dot products with two decoded rows at once;</li>
 * <li>many tokens (prefill): the rows of a block are decoded into the packed panels of the dense
 *     products' tile ({@code VectorKernel}), which runs unchanged on them, so a quantized prefill
 *     costs a float32 one plus one decoding of each weight.</li>
 * </ul>
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
    /**
     * The dense products' kernel at this class's width, whose packed tile runs the many-token
     * products on decoded rows; null where the JIT's vectors are narrower (then the decoded rows'
     * dot products serve every token count).
     */
    private static final Kernel PACKED = F.vectorBitSize() <= Kernels.maxBits() ? Kernels.of(F.vectorBitSize()) : null;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final VectorShuffle<Float> ROT8 = VectorShuffle.iota(F, 8, 1, true), ROT4 = VectorShuffle.iota(F, 4, 1, true),
            ROT2 = VectorShuffle.iota(F, 2, 1, true), ROT1 = VectorShuffle.iota(F, 1, 1, true);
    /** Int lanes as many as the float ones. */
    private static final VectorSpecies<Integer> I = F.length() == 16 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /** 0, 1, 2, ...: at 16 lanes the 16 values of a 4-bit quant, as floats. */
    private static final FloatVector IOTA = FloatVector.zero(F).addIndex(1);
    /** Eight int lanes (Q4_K's eight sub-blocks, whatever {@link #L}) and eight float ones. */
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /**
     * For {@link #scalesQ4K}, ggml's {@code get_scale_min_k4} on eight lanes: sub-block
     * {@code j < 4} takes the low 6 bits of a byte, {@code j >= 4} a nibble and two bits of
     * another byte, moved up to bits 4 and 5.
     */
    private static final VectorMask<Integer> UPPER4 = VectorMask.fromLong(I8, 0xf0L);
    private static final IntVector LOW6_OR_NIBBLE = IntVector.fromArray(I8, new int[] {63, 63, 63, 63, 15, 15, 15, 15}, 0),
            HIGH2 = IntVector.fromArray(I8, new int[] {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30}, 0);
    private static final VectorShuffle<Integer> LOWER4_UP = VectorShuffle.fromValues(I8, 0, 0, 0, 0, 0, 1, 2, 3);

    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens} and rows {@code [r0, r1)}
     * of {@code W[rows][cols]} stored as {@code dtype} at the start of {@code w}; {@code product}
     * identifies the call among a product's row ranges on one thread (see {@link Kernel#matmul}).
     */
    static void matmul(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1, Object product) {
        if (!dtype.isQuantized()) throw new IllegalArgumentException(dtype + " is not a block format");
        if (tokens >= VectorKernel.PACKED_TOKENS && PACKED != null) {
            PACKED.matmul(dtype, w, rows, cols, x, out, tokens, r0, r1, product);
            return;
        }
        long rowBytes = dtype.bytesOf(cols);
        if (tokens == 1) {
            switch (dtype) {
                case Q8_0 -> {
                    int r = r0;
                    for (; L == 16 && r + 2 <= r1; r += 2) pairQ8(w, r * rowBytes, rowBytes, x, cols / 32, out, r);
                    for (; r < r1; r++) out[r] = rowQ8(w, r * rowBytes, x, cols / 32);
                    return;
                }
                case Q4_0 -> {
                    for (int r = r0; r < r1; r++) out[r] = rowQ4(w, r * rowBytes, x, cols / 32);
                    return;
                }
                case Q4_K -> {
                    rowsQ4K(w, rowBytes, cols, x, out, r0, r1);
                    return;
                }
                case Q6_K -> {
                    rowsQ6K(w, rowBytes, cols, x, out, r0, r1);
                    return;
                }
                default -> {
                    // Q5_0 and Q5_K: decoded into a scratch row below
                }
            }
        }
        // this thread's two decoders, kept between products (a decoded token's activations then die
        // young rather than being promoted by collections this garbage would bring on)
        Scratch scratch = Scratch.of(0, 0, 0);
        RowDecoder first = scratch.decoder(0, cols), second = scratch.decoder(1, cols);
        float[] acc = new float[8];
        int r = r0;
        if (tokens >= 4) {
            // two decoded rows at a time times four tokens per tile; the rest one by one
            Scratch s = aligned(x, tokens * cols, product);
            float[] xa = s.input(product, 0);
            int a = s.inputStart();
            for (; r + 2 <= r1; r += 2) {
                float[] row = first.decode(dtype, w, r * rowBytes, cols), next = second.decode(dtype, w, (r + 1) * rowBytes, cols);
                int t = 0;
                for (; t + 4 <= tokens; t += 4) {
                    dots(row, next, xa, a + t * cols, cols, acc);
                    storeTile(acc, out, rows, r, t);
                }
                for (; t < tokens; t++) {
                    out[t * rows + r] = dot(row, x, t * cols, cols);
                    out[t * rows + r + 1] = dot(next, x, t * cols, cols);
                }
            }
        }
        for (; r < r1; r++) {
            float[] row = first.decode(dtype, w, r * rowBytes, cols);
            for (int t = 0; t < tokens; t++) out[t * rows + r] = dot(row, x, t * cols, cols);
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

    /** The float16 scale at byte {@code at}. */
    private static float half(MemorySegment w, long at) {
        return Float.float16ToFloat(w.get(U16, at));
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
     * One Q8_0 row (34-byte blocks: float16 d, 32 int8) times {@code x}: each chunk of L quants
     * widened and multiplied by d (exactly: an int8 times a float16 fits a float32), then into
     * its accumulator, as {@link #decodeQ8} and {@link #dot} would take it.
     */
    private static float rowQ8(MemorySegment w, long at, float[] x, int blocks) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long o = at + 34L * b;
            float d = half(w, o);
            int c = 32 * b;
            a0 = q8(w, o + 2).mul(d).fma(xv(x, c), a0);
            a1 = q8(w, o + 2 + L).mul(d).fma(xv(x, c + L), a1);
            if (L == 8) {
                a0 = q8(w, o + 18).mul(d).fma(xv(x, c + 16), a0);
                a1 = q8(w, o + 26).mul(d).fma(xv(x, c + 24), a1);
            }
        }
        return sum(a0.add(a1));
    }

    /**
     * Q8_0 rows {@code r} (at {@code at}) and {@code r + 1} times {@code x} into {@code out[r]},
     * {@code out[r + 1]} at 16 lanes, each as {@link #rowQ8} sums it: two streams of weights keep
     * more loads from memory in flight than one, and each load of x serves both rows.
     */
    private static void pairQ8(MemorySegment w, long at, long rowBytes, float[] x, int blocks, float[] out, int r) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        for (int b = 0; b < blocks; b++) {
            long o = at + 34L * b, p = o + rowBytes;
            float d = half(w, o), e = half(w, p);
            FloatVector x0 = xv(x, 32 * b), x1 = xv(x, 32 * b + 16);
            a0 = q8(w, o + 2).mul(d).fma(x0, a0);
            a1 = q8(w, o + 18).mul(d).fma(x1, a1);
            b0 = q8(w, p + 2).mul(e).fma(x0, b0);
            b1 = q8(w, p + 18).mul(e).fma(x1, b1);
        }
        out[r] = sum(a0.add(a1));
        out[r + 1] = sum(b0.add(b1));
    }

    /**
     * One Q4_0 row (18-byte blocks: float16 d, 16 bytes whose byte {@code i} holds column
     * {@code i} in its low nibble and {@code i + 16} in its high one) times {@code x}, as
     * {@link #rowQ8} for {@link #decodeQ4}'s values {@code (q - 8) * d}.
     */
    private static float rowQ4(MemorySegment w, long at, float[] x, int blocks) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long o = at + 18L * b;
            float d = half(w, o);
            int c = 32 * b;
            if (L == 16) {
                ByteVector q = bytes(w, o + 2);
                a0 = low4(q).mul(d).fma(xv(x, c), a0);
                a1 = high4(q).mul(d).fma(xv(x, c + 16), a1);
            } else {
                ByteVector lo = bytes(w, o + 2), hi = bytes(w, o + 10);
                a0 = low4(lo).mul(d).fma(xv(x, c), a0);
                a1 = low4(hi).mul(d).fma(xv(x, c + 8), a1);
                a0 = high4(lo).mul(d).fma(xv(x, c + 16), a0);
                a1 = high4(hi).mul(d).fma(xv(x, c + 24), a1);
            }
        }
        return sum(a0.add(a1));
    }

    private static ByteVector bytes(MemorySegment w, long at) {
        return ByteVector.fromMemorySegment(B, w, at, LE);
    }

    private static FloatVector toFloat(ByteVector v) {
        return (FloatVector) v.convertShape(B2F, F, 0);
    }

    /**
     * The {@code cols} elements stored from byte {@code at} (whole blocks) into {@code row},
     * element for element the float ggml's {@code dequantize_row_*} gives: {@code q * d} (Q8_0),
     * {@code (q - 8) * d} (Q4_0), {@code d * sc * q - dmin * m} (Q4_K, Q5_K) and
     * {@code d * sc * (q - 32)} (Q6_K), with the scale products formed as there, given scratch for
     * a row's scale products ({@code cols / 16} floats) and Q4_K tables ({@code cols / 2}). At 16
     * lanes Q4_K and Q6_K rows are decoded as the one-token products form their values (a lookup
     * in each sub-block's table of 16, quants assembled in int lanes), the same floats in about
     * half the instructions of byte lanes, which x86 cannot shift.
     */
    private static void decodeRow(DType t, MemorySegment w, long at, int cols, float[] row, float[] scales, float[] tables) {
        if (L == 16 && t == DType.Q4_K) {
            tablesQ4K(w, at, cols, scales, tables);
            tableRowQ4K(w, at, cols, tables, row);
            return;
        }
        if (L == 16 && t == DType.Q6_K) {
            scalesQ6K(w, at, cols, scales);
            intRowQ6K(w, at, cols, scales, row);
            return;
        }
        if (t == DType.Q8_0 || t == DType.Q4_0) {
            for (int b = 0; b < cols / 32; b++) {
                if (t == DType.Q8_0) decodeQ8(w, at + 34L * b, row, 32 * b);
                else decodeQ4(w, at + 18L * b, row, 32 * b);
            }
            return;
        }
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

    /** Rows of up to a given number of columns decoded into one reused row, with the scratch {@link #decodeRow} needs. */
    static final class RowDecoder {
        private final float[] row, scales, tables;

        /** A decoder for rows of at most {@code cols} columns. */
        RowDecoder(int cols) {
            row = new float[cols];
            scales = new float[cols / 16];
            tables = new float[cols / 2];
        }

        /** Most columns of a row this decoder takes. */
        int capacity() {
            return row.length;
        }

        /** The {@code cols} elements stored from byte {@code at} of {@code w}, decoded into this decoder's row, which is returned. */
        float[] decode(DType t, MemorySegment w, long at, int cols) {
            decodeRow(t, w, at, cols, row, scales, tables);
            return row;
        }
    }

    /** The Q8_0 block at {@code o} into {@code row[y..y + 32)}, each value formed as {@link #rowQ8} forms it. */
    private static void decodeQ8(MemorySegment w, long o, float[] row, int y) {
        float d = half(w, o);
        for (int l = 0; l < 32; l += L) q8(w, o + 2 + l).mul(d).intoArray(row, y + l);
    }

    /** The Q4_0 block at {@code o} into {@code row[y..y + 32)}, each value formed as {@link #rowQ4} forms it. */
    private static void decodeQ4(MemorySegment w, long o, float[] row, int y) {
        float d = half(w, o);
        for (int l = 0; l < 16; l += L) {
            ByteVector q = bytes(w, o + 2 + l);
            low4(q).mul(d).intoArray(row, y + l);
            high4(q).mul(d).intoArray(row, y + 16 + l);
        }
    }

    /** The Q6_K super-block at {@code o} into {@code row[y..y + 256)}. */
    private static void decodeQ6K(MemorySegment w, long o, float[] row, int y) {
        float d = half(w, o + 208);
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
        float d = half(w, o), min = half(w, o + 2);
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
     * Rows {@code [r0, r1)} of Q4_K times one token {@code x}. Each row is taken in two passes,
     * each a method of its own: the sub-blocks' tables of values ({@link #tablesQ4K}), then the
     * product ({@link #rowQ4K}). In one loop body the two pass C2's node budget for inlining
     * ({@code NodeCountInliningCutoff}), and the vector calls left out box their vectors.
     */
    private static void rowsQ4K(MemorySegment w, long rowBytes, int cols, float[] x, float[] out, int r0, int r1) {
        RowDecoder d = Scratch.of(0, 0, 0).decoder(0, cols);
        float[] scales = d.scales, tables = d.tables;
        for (int r = r0; r < r1; r++) {
            tablesQ4K(w, r * rowBytes, cols, scales, tables);
            out[r] = rowQ4K(w, r * rowBytes, x, cols, scales, tables);
        }
    }

    /**
     * The Q4_K row at {@code at}'s scale products ({@link #scalesQ4K}, 16 per super-block) into
     * {@code scales}, and at 16 lanes for each of its sub-blocks {@code j} the 16 values its
     * quants stand for, {@code d * sc_j * q - dmin * m_j} for {@code q < 16} formed as ggml forms
     * them, into {@code tables[16 j..16 j + 16)} (at 8 lanes {@link #rowQ4K} reads only the scales).
     */
    private static void tablesQ4K(MemorySegment w, long at, int cols, float[] scales, float[] tables) {
        for (int b = 0; b < cols / Quants.QK_K; b++) {
            scalesQ4K(w, at + (long) b * DType.Q4_K.blockBytes(), scales, 16 * b);
            for (int j = 0; L == 16 && j < 8; j++) IOTA.mul(scales[16 * b + j]).sub(scales[16 * b + 8 + j]).intoArray(tables, 128 * b + 16 * j);
        }
    }

    /**
     * Super-block {@code o}'s scale products as {@link #decodeQ45K} forms them for Q4_K, by vector
     * operations: {@code s[j] = d * sc_j}, {@code s[8 + j] = dmin * m_j} for sub-block {@code j}.
     * With {@code s0..s11} the 12 scale bytes, {@code sc_j} is {@code s_j & 63} for {@code j < 4},
     * else {@code (s_{j+4} & 15) | (s_{j-4} >>> 6) << 4}; {@code m_j} is {@code s_{j+4} & 63},
     * else {@code (s_{j+4} >>> 4) | (s_j >>> 6) << 4}. Into {@code s[i..i + 16)}.
     */
    private static void scalesQ4K(MemorySegment w, long o, float[] s, int i) {
        IntVector lo = bytes8(w, o + 4), hi = bytes8(w, o + 8); // s0..s7, s4..s11
        IntVector sc = lo.blend(hi, UPPER4).and(LOW6_OR_NIBBLE).or(lo.rearrange(LOWER4_UP).lanewise(LSHR, 2).and(HIGH2));
        IntVector m = hi.blend(hi.lanewise(LSHR, 4), UPPER4).and(LOW6_OR_NIBBLE).or(lo.lanewise(LSHR, 2).and(HIGH2));
        ((FloatVector) sc.convertShape(I2F, F8, 0)).mul(half(w, o)).intoArray(s, i);
        ((FloatVector) m.convertShape(I2F, F8, 0)).mul(half(w, o + 2)).intoArray(s, i + 8);
    }

    /** Eight bytes sign-extended to int lanes (only their low 8 bits are used). */
    private static IntVector bytes8(MemorySegment w, long at) {
        return (IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_64, w, at, LE).convertShape(B2I, I8, 0);
    }

    /**
     * One Q4_K row times {@code x[0..cols)}, given its {@link #tablesQ4K}: {@link #decodeQ45K}'s
     * values taken in column order into {@link #dot}'s two accumulators (vector {@code i} into
     * accumulator {@code i % 2}), so the result is bit for bit that of decode, then dot.
     *
     * <p>At 16 lanes a quant picks its value from its sub-block's table by a lane permutation,
     * which reads only an index's low 4 bits, so a nibble needs no mask; each 16-byte load serves
     * two sub-blocks, low and high nibbles. At 8 lanes, where a vector cannot hold a table, each
     * vector is converted, then scaled, one vector per loop body. Both widths in one method keep
     * it larger than C2 inlines ({@code FreqInlineSize}): inlined into {@link #rowsQ4K} beside
     * the tables' pass, it would pass the node budget for inlining
     * ({@code NodeCountInliningCutoff}), and the vector calls left out box their vectors.
     */
    private static float rowQ4K(MemorySegment w, long at, float[] x, int cols, float[] s, float[] tables) {
        if (L != 16) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int b = 0, c = 0; b < cols / Quants.QK_K; b++) {
                long o = at + (long) b * DType.Q4_K.blockBytes();
                for (int j = 0; j < 8; j++) {
                    float ds = s[16 * b + j], ms = s[16 * b + 8 + j];
                    long ql = o + 16 + 32L * (j >> 1);
                    for (int l = 0; l < 32; l += L, c += L) {
                        ByteVector q = bytes(w, ql + l);
                        FloatVector v = toFloat((j & 1) == 0 ? q.and((byte) 0xf) : q.lanewise(LSHR, 4)).mul(ds).sub(ms).fma(xv(x, c), a0);
                        a0 = a1;
                        a1 = v;
                    }
                }
            }
            return sum(a0.add(a1));
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        // one loop over the row's 64-column groups, two sub-blocks each, rather than loops
        // nested per super-block: C2 checks the bounds once per row
        for (int g = 0, c = 0; g < cols / 64; g++, c += 64) {
            long q = at + (long) (g >> 2) * DType.Q4_K.blockBytes() + 16 + 32L * (g & 3);
            IntVector lo = table(tables, c >> 1), hi = table(tables, (c >> 1) + 16), q0 = ints(w, q), q1 = ints(w, q + 16);
            a0 = q0.selectFrom(lo).reinterpretAsFloats().fma(xv(x, c), a0);
            a1 = q1.selectFrom(lo).reinterpretAsFloats().fma(xv(x, c + 16), a1);
            a0 = q0.lanewise(LSHR, 4).selectFrom(hi).reinterpretAsFloats().fma(xv(x, c + 32), a0);
            a1 = q1.lanewise(LSHR, 4).selectFrom(hi).reinterpretAsFloats().fma(xv(x, c + 48), a1);
        }
        return sum(a0.add(a1));
    }

    /** The Q4_K row at {@code at} into {@code row} at 16 lanes, given its {@link #tablesQ4K}: {@link #rowQ4K}'s values, stored. */
    private static void tableRowQ4K(MemorySegment w, long at, int cols, float[] tables, float[] row) {
        for (int g = 0, c = 0; g < cols / 64; g++, c += 64) {
            long q = at + (long) (g >> 2) * DType.Q4_K.blockBytes() + 16 + 32L * (g & 3);
            IntVector lo = table(tables, c >> 1), hi = table(tables, (c >> 1) + 16), q0 = ints(w, q), q1 = ints(w, q + 16);
            q0.selectFrom(lo).reinterpretAsFloats().intoArray(row, c);
            q1.selectFrom(lo).reinterpretAsFloats().intoArray(row, c + 16);
            q0.lanewise(LSHR, 4).selectFrom(hi).reinterpretAsFloats().intoArray(row, c + 32);
            q1.lanewise(LSHR, 4).selectFrom(hi).reinterpretAsFloats().intoArray(row, c + 48);
        }
    }

    /** A sub-block's 16 values from {@link #tablesQ4K}, as float bits. */
    private static IntVector table(float[] tables, int at) {
        return FloatVector.fromArray(F, tables, at).reinterpretAsInts();
    }

    /** L bytes sign-extended to int lanes. */
    private static IntVector ints(MemorySegment w, long at) {
        return (IntVector) bytes(w, at).convertShape(B2I, I, 0);
    }

    /** Rows {@code [r0, r1)} of Q6_K times one token {@code x}, each in two passes as in {@link #rowsQ4K}. */
    private static void rowsQ6K(MemorySegment w, long rowBytes, int cols, float[] x, float[] out, int r0, int r1) {
        float[] scales = Scratch.of(0, 0, 0).decoder(0, cols).scales;
        for (int r = r0; r < r1; r++) {
            scalesQ6K(w, r * rowBytes, cols, scales);
            out[r] = rowQ6K(w, r * rowBytes, x, cols, scales);
        }
    }

    /** The Q6_K row at {@code at}'s scale products {@code d * sc} as {@link #decodeQ6K} forms them, 16 per super-block, into {@code s}. */
    private static void scalesQ6K(MemorySegment w, long at, int cols, float[] s) {
        for (int b = 0; b < cols / Quants.QK_K; b++) {
            long o = at + (long) b * DType.Q6_K.blockBytes();
            ByteVector sc = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, o + 192, LE);
            float d = half(w, o + 208);
            ((FloatVector) sc.convertShape(B2F, F8, 0)).mul(d).intoArray(s, 16 * b);
            ((FloatVector) sc.convertShape(B2F, F8, 1)).mul(d).intoArray(s, 16 * b + 8);
        }
    }

    /**
     * One Q6_K row times {@code x[0..cols)} given its {@link #scalesQ6K}, as {@link #rowQ4K} for
     * {@link #decodeQ6K}'s values. At 16 lanes each loop body takes one quarter's two 16-column
     * vectors, one per accumulator, their 6-bit quants assembled in int lanes, whose shifts x86
     * has (bytes it has not), the scale products read from {@code s}. At 8 lanes
     * quarter {@code k} of each 128-element half takes the low (k < 2) or high nibbles and bits
     * {@code 2k, 2k + 1} of the high-bit bytes, each picked by constant shifts (a byte shift by a
     * variable count is not intrinsified), one vector per loop body. Both widths in one method:
     * see {@link #rowQ4K}.
     */
    private static float rowQ6K(MemorySegment w, long at, float[] x, int cols, float[] s) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        if (L != 16) {
            for (int b = 0, c = 0; b < cols / Quants.QK_K; b++) {
                long o = at + (long) b * DType.Q6_K.blockBytes();
                for (int n = 0; n < 2; n++) {
                    for (int k = 0; k < 4; k++) {
                        long ql = o + 64L * n + 32 * (k & 1), qh = o + 128 + 32L * n;
                        for (int l = 0; l < 32; l += L, c += L) {
                            ByteVector lo = bytes(w, ql + l), h = bytes(w, qh + l);
                            lo = k < 2 ? lo.and((byte) 0xf) : lo.lanewise(LSHR, 4);
                            h = k == 0 ? h.and((byte) 3).lanewise(LSHL, 4)
                                    : k == 1 ? h.and((byte) 0xc).lanewise(LSHL, 2) : k == 2 ? h.and((byte) 0x30) : h.lanewise(LSHR, 2).and((byte) 0x30);
                            FloatVector v = toFloat(lo.or(h).sub((byte) 32)).mul(s[16 * b + 8 * n + 2 * k + l / 16]).fma(xv(x, c), a0);
                            a0 = a1;
                            a1 = v;
                        }
                    }
                }
            }
            return sum(a0.add(a1));
        }
        // 32-column unit u: super-block u / 8, its half n, quarter k; its two vectors (scales
        // s[2u], s[2u + 1]) go to the two accumulators
        for (int u = 0; u < cols / 32; u++) {
            int n = (u >> 2) & 1, k = u & 3;
            long o = at + (long) (u >> 3) * DType.Q6_K.blockBytes(), ql = o + 64 * n + 32 * (k & 1), qh = o + 128 + 32 * n;
            a0 = q6(w, ql, qh, k, s[2 * u]).fma(xv(x, 32 * u), a0);
            a1 = q6(w, ql + 16, qh + 16, k, s[2 * u + 1]).fma(xv(x, 32 * u + 16), a1);
        }
        return sum(a0.add(a1));
    }

    /** The Q6_K row at {@code at} into {@code row} at 16 lanes, given its {@link #scalesQ6K}: {@link #rowQ6K}'s values, stored. */
    private static void intRowQ6K(MemorySegment w, long at, int cols, float[] s, float[] row) {
        for (int u = 0; u < cols / 32; u++) {
            int n = (u >> 2) & 1, k = u & 3;
            long o = at + (long) (u >> 3) * DType.Q6_K.blockBytes(), ql = o + 64 * n + 32 * (k & 1), qh = o + 128 + 32 * n;
            q6(w, ql, qh, k, s[2 * u]).intoArray(row, 32 * u);
            q6(w, ql + 16, qh + 16, k, s[2 * u + 1]).intoArray(row, 32 * u + 16);
        }
    }

    /**
     * 16 Q6_K weights {@code (q - 32) * scale} as {@link #decodeQ6K} forms them, quarter {@code k}'s
     * 6-bit quants assembled in int lanes from nibbles at {@code ql} and bit pairs {@code 2k,
     * 2k + 1} at {@code qh}, the pair rotated into bits 4 and 5 (one instruction where a shift
     * would need to know its direction).
     */
    private static FloatVector q6(MemorySegment w, long ql, long qh, int k, float scale) {
        IntVector lo = ints(w, ql).lanewise(LSHR, 4 * (k >> 1)).and(0xf), hi = ints(w, qh).lanewise(ROL, 4 - 2 * k).and(0x30);
        return ((FloatVector) lo.or(hi).sub(32).convertShape(I2F, F, 0)).mul(scale);
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

    /** A tile's {@code acc} (four tokens of row {@code r}, then of row {@code r + 1}) into {@code out} from token {@code t}. */
    private static void storeTile(float[] acc, float[] out, int rows, int r, int t) {
        for (int j = 0; j < 4; j++) {
            out[(t + j) * rows + r] = acc[j];
            out[(t + j) * rows + r + 1] = acc[4 + j];
        }
    }

    /**
     * {@link #dot} of rows {@code u} and {@code v} with four tokens {@code x[xo..]},
     * {@code x[xo + n..]}, ... into {@code acc[0..4)} and {@code acc[4..8)}: each pair's
     * arithmetic exactly {@link #dot}'s, each load of a row serving four tokens and each load of
     * x two rows.
     */
    private static void dots(float[] u, float[] v, float[] x, int xo, int n, float[] acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, b0 = z, b1 = z, c0 = z, c1 = z, d0 = z, d1 = z;
        FloatVector e0 = z, e1 = z, f0 = z, f1 = z, g0 = z, g1 = z, h0 = z, h1 = z;
        for (int c = 0; c < n; c += 2 * L) {
            FloatVector u0 = xv(u, c), u1 = xv(u, c + L), v0 = xv(v, c), v1 = xv(v, c + L);
            FloatVector x0 = xv(x, xo + c), x1 = xv(x, xo + c + L);
            a0 = u0.fma(x0, a0);
            a1 = u1.fma(x1, a1);
            e0 = v0.fma(x0, e0);
            e1 = v1.fma(x1, e1);
            x0 = xv(x, xo + n + c);
            x1 = xv(x, xo + n + c + L);
            b0 = u0.fma(x0, b0);
            b1 = u1.fma(x1, b1);
            f0 = v0.fma(x0, f0);
            f1 = v1.fma(x1, f1);
            x0 = xv(x, xo + 2 * n + c);
            x1 = xv(x, xo + 2 * n + c + L);
            c0 = u0.fma(x0, c0);
            c1 = u1.fma(x1, c1);
            g0 = v0.fma(x0, g0);
            g1 = v1.fma(x1, g1);
            x0 = xv(x, xo + 3 * n + c);
            x1 = xv(x, xo + 3 * n + c + L);
            d0 = u0.fma(x0, d0);
            d1 = u1.fma(x1, d1);
            h0 = v0.fma(x0, h0);
            h1 = v1.fma(x1, h1);
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
        acc[2] = sum(c0.add(c1));
        acc[3] = sum(d0.add(d1));
        acc[4] = sum(e0.add(e1));
        acc[5] = sum(f0.add(f1));
        acc[6] = sum(g0.add(g1));
        acc[7] = sum(h0.add(h1));
    }

    /**
     * This thread's scratch, whose input block holds the {@code n} floats of {@code x}, copied once
     * per product and thread from {@link Scratch#inputStart()}, where they start a cache line (so
     * do the tokens' rows of x, whose lengths are multiples of a block of 32).
     */
    private static Scratch aligned(float[] x, int n, Object product) {
        Scratch s = Scratch.of(0, 0, n);
        if (s.input(product, 0) == null) System.arraycopy(x, 0, s.claimInput(product, 0), s.inputStart(), n);
        return s;
    }
}
