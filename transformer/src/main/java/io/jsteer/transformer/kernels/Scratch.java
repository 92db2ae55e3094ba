/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A thread's working memory for {@link VectorKernel#matmul}, kept between products: the partial
 * accumulators of a block of rows, a block of rows widened to float32, and the tokens of the
 * product being computed in the layout the kernel reads. Outside the kernel class, which is
 * defined once per vector width as a hidden class.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>();
    /** Alignment of the native blocks: a cache line, so no vector load of them splits one. */
    private static final long LINE = 64;

    float[] partials = new float[0];
    float[] rows = new float[0];
    private float[] input = new float[0];
    private MemorySegment widened = MemorySegment.NULL;
    /** The product and first token whose tokens {@link #input} holds; {@code null} when none. */
    private Object product;
    private int first;

    private Scratch() {}

    /**
     * This thread's scratch, with room for {@code floats} partials, {@code rowBytes} of widened
     * rows and {@code inputBytes} of tokens.
     */
    static Scratch of(int floats, int rowFloats, int inputFloats) {
        Scratch s = LOCAL.get();
        if (s == null) LOCAL.set(s = new Scratch());
        if (s.partials.length < floats) s.partials = new float[floats];
        if (s.rows.length < rowFloats) s.rows = new float[rowFloats];
        if (s.input.length < inputFloats) {
            s.input = new float[inputFloats];
            s.product = null;
        }
        return s;
    }

    /** At least {@code bytes} of native memory, aligned to a cache line, for rows widened to float32. */
    MemorySegment widened(long bytes) {
        if (widened.byteSize() < bytes) widened = Arena.ofAuto().allocate(bytes, LINE);
        return widened;
    }

    /** The tokens from {@code first} of {@code product} laid out earlier on this thread, or {@code null}. */
    float[] input(Object product, int first) {
        return this.product == product && this.first == first ? input : null;
    }

    /** The input block, to be filled with the tokens from {@code first} of {@code product}. */
    float[] claimInput(Object product, int first) {
        this.product = product;
        this.first = first;
        return input;
    }
}
