/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A thread's working memory for {@link VectorKernel#matmul}, kept between products: the partial
 * accumulators of a block of rows, and a block of F16 rows widened to float32. Outside the
 * kernel class, which is defined once per vector width as a hidden class.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>();

    float[] partials = new float[0];
    MemorySegment rows = MemorySegment.NULL;

    private Scratch() {}

    /** This thread's scratch, with room for {@code floats} partials and {@code rowBytes} of widened rows. */
    static Scratch of(int floats, long rowBytes) {
        Scratch s = LOCAL.get();
        if (s == null) LOCAL.set(s = new Scratch());
        if (s.partials.length < floats) s.partials = new float[floats];
        if (s.rows.byteSize() < rowBytes) s.rows = Arena.ofAuto().allocate(rowBytes, 64);
        return s;
    }
}
