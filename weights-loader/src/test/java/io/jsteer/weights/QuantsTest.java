/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Quants} against llama.cpp's own code: blocks of random bytes with edge-value scales
 * (subnormal, -0, +-65504) decoded by gguf-py (which mirrors ggml's dequantize_row_*), and float
 * rows encoded by gguf-py's bit-exact copy of quantize_row_*_ref; see
 * {@code src/test/resources/gguf-blocks/make_blocks.py}. Equality is bit for bit.
 */
class QuantsTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static byte[] resource(String name) {
        try (InputStream in = QuantsTest.class.getResourceAsStream("/gguf-blocks/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource gguf-blocks/" + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floats(byte[] bytes) {
        return MemorySegment.ofArray(bytes).toArray(F32);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void decodesAsLlamaCppBitForBit(DType t) {
        MemorySegment blocks = MemorySegment.ofArray(resource(t + ".bin"));
        float[] expected = floats(resource(t + ".f32"));
        assertEquals(blocks.byteSize() / t.blockBytes() * t.blockSize(), expected.length);
        float[] all = new float[expected.length];
        Quants.dequantize(t, blocks, 0, all);
        assertBitsEqual(expected, all, t + " whole");
        // a window starting and ending inside blocks, as an embedding row of odd width would
        float[] window = new float[expected.length - t.blockSize() - 10];
        Quants.dequantize(t, blocks, 5 + t.blockSize() / 2, window);
        for (int i = 0; i < window.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[5 + t.blockSize() / 2 + i]), Float.floatToRawIntBits(window[i]), t + " window at " + i);
        }
        Tensor tensor = new Tensor("w", t, new long[] {expected.length / t.blockSize(), t.blockSize()}, blocks);
        for (int i = 0; i < expected.length; i += 37) assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(tensor.get(i)), t + " get " + i);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void encodesAsLlamaQuantizeBitForBit(DType t) {
        float[] rows = floats(resource("quantize.f32"));
        byte[] expected = resource("quantize." + t + ".bin");
        byte[] actual = new byte[expected.length];
        MemorySegment out = MemorySegment.ofArray(actual);
        for (int b = 0; b < rows.length / 32; b++) Quants.quantizeBlock(t, rows, 32 * b, out, (long) b * t.blockBytes());
        for (int b = 0; b < rows.length / 32; b++) {
            byte[] e = java.util.Arrays.copyOfRange(expected, b * t.blockBytes(), (b + 1) * t.blockBytes());
            byte[] a = java.util.Arrays.copyOfRange(actual, b * t.blockBytes(), (b + 1) * t.blockBytes());
            assertArrayEquals(e, a, t + " block " + b);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void refusesToEncodeKQuants(DType t) {
        assertThrows(IllegalArgumentException.class, () -> Quants.quantizeBlock(t, new float[256], 0, MemorySegment.ofArray(new byte[256]), 0));
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", llama.cpp gives " + expected[i]);
            }
        }
    }
}
