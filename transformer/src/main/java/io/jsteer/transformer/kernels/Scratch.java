/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

/**
 * A thread's working memory for {@link VectorKernel#matmul}, kept between products: the partial
 * accumulators of a block of rows, a block of rows widened to float32, and the tokens of the
 * product being computed in the layout the kernel reads. Outside the kernel class, which is
 * defined once per vector width as a hidden class.
 *
 * <p>The many-token kernel reads its blocks with full-width vector loads, and a 512-bit load that
 * is not aligned to a cache line touches two lines and costs two. A Java array's elements start
 * a few bytes past its header, and the heap places ordinary arrays at any 8-byte boundary, so the
 * blocks are arrays that G1 allocates as humongous objects, which always start at a region
 * boundary: their element {@link #LINE_START} then starts a cache line, fixed for the life of
 * the array. Under other collectors, or where padding an array that far would cost too much,
 * nothing is known about the address and the kernel simply runs with split loads.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>();
    /** Alignment of the native blocks: a cache line, so no vector load of them splits one. */
    private static final long LINE = 64;
    /** Most bytes an array is padded to, to be humongous. */
    private static final long MOST_PADDING = 4 << 20;
    /**
     * The first element of a {@link #floats} array that starts a cache line (0 where that is
     * unknown), and the fewest floats that make an array humongous (0 where none is padded).
     */
    static final int LINE_START;
    private static final int HUMONGOUS_FLOATS;

    static {
        int start = 0, humongous = 0;
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            long region = Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
            // header bytes before a float array's first element (mark word, class, length)
            int header = flag(vm, "UseCompactObjectHeaders") ? 12 : flag(vm, "UseCompressedClassPointers") ? 16 : -1;
            if (flag(vm, "UseG1GC") && header > 0 && region / 2 <= MOST_PADDING) {
                start = (int) ((LINE - header) / Float.BYTES);
                humongous = (int) (region / 2 / Float.BYTES) + 1;
            }
        } catch (RuntimeException | LinkageError unknown) {
            // not HotSpot, or an option it does not have: leave the blocks where the heap puts them
        }
        LINE_START = start;
        HUMONGOUS_FLOATS = humongous;
    }

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
        if (s.partials.length < floats) s.partials = floats(floats);
        if (s.rows.length < rowFloats) s.rows = floats(rowFloats);
        if (s.input.length < inputFloats) {
            s.input = floats(inputFloats);
            s.product = null;
        }
        return s;
    }

    /** An array of at least {@code n} floats, humongous when {@link #LINE_START} is known. */
    private static float[] floats(int n) {
        return new float[Math.max(n, HUMONGOUS_FLOATS)];
    }

    private static boolean flag(HotSpotDiagnosticMXBean vm, String name) {
        return Boolean.parseBoolean(vm.getVMOption(name).getValue());
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
