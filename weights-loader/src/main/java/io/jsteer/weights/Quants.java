/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Decoding and encoding of ggml's block formats ({@link DType#isQuantized()}), element for element
 * as ggml's reference code does it ({@code dequantize_row_*} and {@code quantize_row_*_ref} in
 * ggml/src/ggml-quants.c): the same operations in the same order, so the floats are the same bit
 * for bit. Used to read single elements, small tensors and embedding rows, to quantize weights,
 * and as the reference the vectorised products are tested against.
 */
public final class Quants {
    private Quants() {}

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** ggml's {@code QK_K}: elements per K-quant super-block. */
    public static final int QK_K = 256;

    private static float half(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(U16, at));
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    /**
     * Decodes the block of type {@code t} at byte {@code at} of {@code s} into
     * {@code out[o .. o + t.blockSize())}.
     */
    public static void dequantizeBlock(DType t, MemorySegment s, long at, float[] out, int o) {
        switch (t) {
            case Q8_0 -> {
                float d = half(s, at);
                for (int j = 0; j < 32; j++) out[o + j] = s.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
            }
            case Q4_0 -> {
                float d = half(s, at);
                for (int j = 0; j < 16; j++) {
                    int q = u8(s, at + 2 + j);
                    out[o + j] = ((q & 0x0f) - 8) * d;
                    out[o + j + 16] = ((q >>> 4) - 8) * d;
                }
            }
            case Q5_0 -> {
                float d = half(s, at);
                int qh = s.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at + 2);
                for (int j = 0; j < 16; j++) {
                    int q = u8(s, at + 6 + j);
                    int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
                    out[o + j] = (((q & 0x0f) | h0) - 16) * d;
                    out[o + j + 16] = (((q >>> 4) | h1) - 16) * d;
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = t == DType.Q5_K;
                float d = half(s, at), min = half(s, at + 2);
                long scales = at + 4, qh = at + 16, ql = five ? at + 48 : at + 16;
                int[] scMin = new int[2];
                for (int j = 0, is = 0, y = o; j < QK_K; j += 64, is += 2) {
                    scaleMinK4(is, s, scales, scMin);
                    float d1 = d * scMin[0], m1 = min * scMin[1];
                    scaleMinK4(is + 1, s, scales, scMin);
                    float d2 = d * scMin[0], m2 = min * scMin[1];
                    int u1 = 1 << is, u2 = 2 << is;
                    for (int l = 0; l < 32; l++) {
                        int q = u8(s, ql + l), h = five ? u8(s, qh + l) : 0;
                        out[y + l] = d1 * ((q & 0xf) + ((h & u1) != 0 ? 16 : 0)) - m1;
                        out[y + 32 + l] = d2 * ((q >>> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
                    }
                    ql += 32;
                    y += 64;
                }
            }
            case Q6_K -> {
                long ql = at, qh = at + 128, sc = at + 192;
                float d = half(s, at + 208);
                for (int n = 0, y = o; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
                    for (int l = 0; l < 32; l++) {
                        int is = l / 16;
                        int lo = u8(s, ql + l), hi = u8(s, ql + l + 32), h = u8(s, qh + l);
                        int q1 = ((lo & 0xf) | ((h & 3) << 4)) - 32;
                        int q2 = ((hi & 0xf) | (((h >>> 2) & 3) << 4)) - 32;
                        int q3 = ((lo >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                        int q4 = ((hi >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                        out[y + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                        out[y + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                        out[y + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                        out[y + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
                    }
                }
            }
            default -> throw new IllegalArgumentException(t + " is not a block format");
        }
    }

    /**
     * ggml's {@code get_scale_min_k4}: the 6-bit scale and min of sub-block {@code j} (0-7) packed
     * in the 12 scale bytes at {@code at}: sub-blocks 0-3 in the low 6 bits of bytes 0-3 and 4-7,
     * 4-7 in the nibbles of bytes 8-11 plus the top 2 bits of bytes 0-7.
     */
    public static void scaleMinK4(int j, MemorySegment s, long at, int[] scMin) {
        if (j < 4) {
            scMin[0] = u8(s, at + j) & 63;
            scMin[1] = u8(s, at + j + 4) & 63;
        } else {
            scMin[0] = (u8(s, at + j + 4) & 0xf) | ((u8(s, at + j - 4) >>> 6) << 4);
            scMin[1] = (u8(s, at + j + 4) >>> 4) | ((u8(s, at + j) >>> 6) << 4);
        }
    }

    /** Decodes {@code out.length} elements starting at element {@code from} (both whole blocks or not) of a block-format tensor. */
    public static void dequantize(DType t, MemorySegment s, long from, float[] out) {
        int bs = t.blockSize();
        float[] block = new float[bs];
        long first = from / bs, last = (from + out.length + bs - 1) / bs;
        for (long b = first; b < last; b++) {
            long start = b * bs;
            int lo = (int) Math.max(0, from - start), hi = (int) Math.min(bs, from + out.length - start);
            if (lo == 0 && hi == bs) {
                dequantizeBlock(t, s, b * t.blockBytes(), out, (int) (start - from));
            } else {
                dequantizeBlock(t, s, b * t.blockBytes(), block, 0);
                System.arraycopy(block, lo, out, (int) (start + lo - from), hi - lo);
            }
        }
    }

    /**
     * Encodes {@code x[o .. o + 32)} as one block at byte {@code at} of {@code s}, as ggml's
     * {@code quantize_row_q8_0_ref} (Q8_0) or {@code quantize_row_q4_0_ref} (Q4_0) does, which is
     * what {@code llama-quantize} writes.
     */
    public static void quantizeBlock(DType t, float[] x, int o, MemorySegment s, long at) {
        switch (t) {
            case Q8_0 -> {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
                float d = amax / 127, id = d != 0 ? 1f / d : 0f;
                s.set(U16, at, Float.floatToFloat16(d));
                for (int j = 0; j < 32; j++) s.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) cvtt(roundf(x[o + j] * id)));
            }
            case Q4_0 -> {
                float amax = 0, max = 0;
                for (int j = 0; j < 32; j++) {
                    float v = x[o + j];
                    if (amax < Math.abs(v)) {
                        amax = Math.abs(v);
                        max = v;
                    }
                }
                float d = max / -8, id = d != 0 ? 1f / d : 0f;
                s.set(U16, at, Float.floatToFloat16(d));
                for (int j = 0; j < 16; j++) {
                    int x0 = Math.min(15, (byte) cvtt(x[o + j] * id + 8.5f)) & 0xff, x1 = Math.min(15, (byte) cvtt(x[o + 16 + j] * id + 8.5f)) & 0xff;
                    s.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (x0 | x1 << 4));
                }
            }
            default -> throw new IllegalArgumentException("quantizing to " + t + " is not supported (Q8_0 and Q4_0 are)");
        }
    }

    /**
     * A float truncated to int as x86's {@code cvttss2si} does, which is what ggml's casts to
     * {@code int8_t} compile to: NaN and values beyond int range give {@code 0x80000000} (so a
     * byte of 0), where Java's cast saturates. Only blocks of subnormal or huge weights get there.
     */
    private static int cvtt(float v) {
        return Float.isNaN(v) || Math.abs(v) >= 0x1p31f ? Integer.MIN_VALUE : (int) v;
    }

    /** C's {@code roundf}: halves away from zero. */
    private static float roundf(float v) {
        return (float) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}
