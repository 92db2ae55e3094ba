/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named, row-major tensor whose elements stay in their stored dtype inside a (usually
 * memory-mapped) segment. Reading an element converts it to float32.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Number of elements. */
    public long size() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}, as an int (model dimensions fit). */
    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    /** Element {@code i} of the flattened tensor, converted to float32 (a block format decodes its whole block). */
    public float get(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(U16, i));
            case BF16 -> BFloat16.toFloat(data.getAtIndex(U16, i));
            default -> {
                float[] one = new float[1];
                Quants.dequantize(dtype, data, i, one);
                yield one[0];
            }
        };
    }

    /** Copies elements {@code [from, from + out.length)} into {@code out} as float32. */
    public void read(long from, float[] out) {
        if (dtype.isQuantized()) {
            Quants.dequantize(dtype, data, from, out);
            return;
        }
        for (int i = 0; i < out.length; i++) out[i] = get(from + i);
    }

    /** Bytes of one row of a matrix (its last dimension) in the stored type. */
    public long rowBytes() {
        return dtype.bytesOf(shape[shape.length - 1]);
    }

    /** The whole tensor as a float32 array (for small tensors: norms, biases, vectors). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(size())];
        read(0, out);
        return out;
    }

    /** Wraps a heap float array as an F32 tensor (for tests and computed vectors). */
    public static Tensor of(String name, float[] values, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        for (int i = 0; i < values.length; i++) seg.setAtIndex(F32, i, values[i]);
        Tensor t = new Tensor(name, DType.F32, shape, seg);
        if (t.size() != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + values.length + " values");
        }
        return t;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
