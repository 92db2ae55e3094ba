/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A thread's working memory for {@link VectorKernel#matmul}, kept between products: the partial
 * accumulators of a block of rows, a block of rows widened to float32, and the tokens of the
 * product being computed in the layout the kernel reads. Outside the kernel class, which is
 * defined once per vector width as a hidden class.
 *
 * <p>The many-token kernel reads its blocks with full-width vector loads, and a 512-bit load that
 * is not aligned to a cache line touches two lines and costs two. A Java array's elements start
 * wherever the collector placed the array (any 8-byte boundary, and it moves arrays), so each
 * block is an array with a cache line of slack, and the kernel starts its block at the element
 * that starts a cache line, found from the array's address when the block is filled
 * ({@link #lineStart}). A block filled and read by one call keeps its start even if the
 * collector moves the array in between: a move costs split loads until the block is filled
 * again, never a wrong result.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>();
    /** Bytes of a cache line: blocks start on one so that no vector load of them splits one. */
    private static final int LINE = 64;
    /** Floats of slack past a block's requested length, for its start to reach a cache line. */
    private static final int SLACK = LINE / Float.BYTES;

    float[] partials = new float[0];
    float[] rows = new float[0];
    private float[] input = new float[0];
    private MemorySegment widened = MemorySegment.NULL;
    /** The product and first token whose tokens {@link #input} holds; {@code null} when none. */
    private Object product;
    private int first;
    /** Element of {@link #input} where its tokens start, as found when it was claimed. */
    private int inputStart;
    /** Decoders of rows in a block format, made on first use. */
    private final QuantKernel.RowDecoder[] decoders = new QuantKernel.RowDecoder[2];

    private Scratch() {}

    /**
     * This thread's scratch, with room for {@code floats} partials, {@code rowFloats} of widened
     * rows and {@code inputFloats} of tokens, each past its block's start ({@link #lineStart}).
     */
    static Scratch of(int floats, int rowFloats, int inputFloats) {
        Scratch s = LOCAL.get();
        if (s == null) LOCAL.set(s = new Scratch());
        if (s.partials.length < floats + SLACK) s.partials = new float[floats + SLACK];
        if (s.rows.length < rowFloats + SLACK) s.rows = new float[rowFloats + SLACK];
        if (s.input.length < inputFloats + SLACK) {
            s.input = new float[inputFloats + SLACK];
            s.product = null;
        }
        return s;
    }

    /** Decoder {@code i} (0 or 1) of this thread, for rows of up to {@code cols} columns. */
    QuantKernel.RowDecoder decoder(int i, int cols) {
        if (decoders[i] == null || decoders[i].capacity() < cols) decoders[i] = new QuantKernel.RowDecoder(cols);
        return decoders[i];
    }

    /** At least {@code bytes} of native memory, aligned to a cache line, for rows widened to float32. */
    MemorySegment widened(long bytes) {
        if (widened.byteSize() < bytes) widened = Arena.ofAuto().allocate(bytes, LINE);
        return widened;
    }

    /** The tokens from {@code first} of {@code product} laid out earlier on this thread, or {@code null}; they start at {@link #inputStart()}. */
    float[] input(Object product, int first) {
        return this.product == product && this.first == first ? input : null;
    }

    /** The input block, to be filled with the tokens from {@code first} of {@code product} from element {@link #inputStart()}. */
    float[] claimInput(Object product, int first) {
        this.product = product;
        this.first = first;
        this.inputStart = lineStart(input);
        return input;
    }

    /** Element of the input block where the tokens of the last {@link #claimInput} start. */
    int inputStart() {
        return inputStart;
    }

    /**
     * The first element of {@code a} that starts a cache line now, from its address: the value a
     * critical downcall to {@code memset(a, 0, 0)} returns, which writes nothing and gives back the
     * address it was passed, that of the array's first element while the call runs (the
     * collector waits for a critical call). 0 where the address cannot be read: without native
     * access for this module ({@code --enable-native-access}), or without a C library.
     */
    static int lineStart(float[] a) {
        if (Address.MEMSET == null) return 0;
        try {
            long at = ((MemorySegment) Address.MEMSET.invokeExact(MemorySegment.ofArray(a), 0, 0L)).address();
            return (int) ((LINE - at % LINE) % LINE / Float.BYTES);
        } catch (Throwable e) {
            throw new IllegalStateException("memset failed", e);
        }
    }

    /** The downcall {@link #lineStart} makes, set up on first use; {@code null} where it cannot be made. */
    private static final class Address {
        static final MethodHandle MEMSET = memset();

        private static MethodHandle memset() {
            if (!Scratch.class.getModule().isNativeAccessEnabled()) return null;
            try {
                Linker c = Linker.nativeLinker();
                return c.defaultLookup().find("memset").map(f -> c.downcallHandle(f,
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                        Linker.Option.critical(true))).orElse(null);
            } catch (UnsupportedOperationException | IllegalArgumentException | IllegalCallerException e) {
                return null;
            }
        }
    }
}
