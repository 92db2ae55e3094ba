/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.kernels.Parallel;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bandwidth roofline: the sum of every float of a mapped segment, on all cores through the
 * same {@link Parallel} loop as the kernels, with four independent accumulators so that only
 * memory limits it. Each width is its own method because the Vector API compiles to SIMD code
 * only for a constant species.
 */
final class StreamRead {
    /** Bytes per parallel chunk. */
    private static final int CHUNK = 1 << 20;
    /** Bytes per loop step at the widest vector: four 64-byte loads. */
    private static final int BLOCK = 256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private StreamRead() {}

    /**
     * Sum of {@code seg} read as floats with {@code bits}-wide vectors. A final partial block of
     * under {@value #BLOCK} bytes is left out: it changes nothing measurable.
     */
    static float sum(MemorySegment seg, int bits) {
        long bytes = seg.byteSize() - seg.byteSize() % BLOCK;
        int chunks = Math.toIntExact((bytes + CHUNK - 1) / CHUNK);
        float[] partial = new float[chunks];
        Parallel.forRange(chunks, Math.max(1, chunks / (8 * Parallel.threads())), (a, b) -> {
            for (int c = a; c < b; c++) {
                long from = (long) c * CHUNK, to = Math.min(bytes, from + CHUNK);
                partial[c] = switch (bits) {
                    case 128 -> sum128(seg, from, to);
                    case 256 -> sum256(seg, from, to);
                    case 512 -> sum512(seg, from, to);
                    default -> throw new IllegalArgumentException("vector width must be 128, 256 or 512, got " + bits);
                };
            }
        });
        float s = 0;
        for (float p : partial) s += p;
        return s;
    }

    private static float sum128(MemorySegment seg, long from, long to) {
        VectorSpecies<Float> f = FloatVector.SPECIES_128;
        long step = f.vectorByteSize();
        FloatVector a0 = FloatVector.zero(f), a1 = a0, a2 = a0, a3 = a0;
        for (long o = from; o < to; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(f, seg, o, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(f, seg, o + step, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(f, seg, o + 2 * step, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(f, seg, o + 3 * step, LE));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    private static float sum256(MemorySegment seg, long from, long to) {
        VectorSpecies<Float> f = FloatVector.SPECIES_256;
        long step = f.vectorByteSize();
        FloatVector a0 = FloatVector.zero(f), a1 = a0, a2 = a0, a3 = a0;
        for (long o = from; o < to; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(f, seg, o, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(f, seg, o + step, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(f, seg, o + 2 * step, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(f, seg, o + 3 * step, LE));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    private static float sum512(MemorySegment seg, long from, long to) {
        VectorSpecies<Float> f = FloatVector.SPECIES_512;
        long step = f.vectorByteSize();
        FloatVector a0 = FloatVector.zero(f), a1 = a0, a2 = a0, a3 = a0;
        for (long o = from; o < to; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(f, seg, o, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(f, seg, o + step, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(f, seg, o + 2 * step, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(f, seg, o + 3 * step, LE));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
