/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Scratch#lineStart} against the address another C function reports for the same array
 * ({@code memcpy(a, a, 0)} returns its destination), taken right after it, with no allocation in
 * between that could move the array.
 */
class ScratchTest {
    private static final int LINE = 64;
    private static final MethodHandle MEMCPY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("memcpy").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), Linker.Option.critical(true));

    private static long address(float[] a) throws Throwable {
        MemorySegment s = MemorySegment.ofArray(a);
        return ((MemorySegment) MEMCPY.invokeExact(s, s, 0L)).address();
    }

    @Test
    void lineStartIsTheArraysFirstElementOnACacheLine() throws Throwable {
        assertTrue(ScratchTest.class.getModule().isNativeAccessEnabled(), "the tests run with --enable-native-access");
        Set<Integer> starts = new HashSet<>();
        float[][] kept = new float[200][];
        for (int i = 0; i < kept.length; i++) {
            // arrays of many lengths, so their elements start at many offsets within a line
            float[] a = kept[i] = new float[1 + 7 * i];
            int start = Scratch.lineStart(a);
            long at = address(a);
            assertTrue(start >= 0 && start < LINE / Float.BYTES, "start " + start);
            assertEquals(0, (at + (long) Float.BYTES * start) % LINE, "array " + i + " at " + at + ": element " + start);
            starts.add(start);
        }
        assertTrue(starts.size() > 1, "every array started at the same offset in a line: " + starts);
    }

    @Test
    void blocksHaveRoomPastTheirStart() {
        Scratch s = Scratch.of(100, 200, 300);
        assertTrue(s.partials.length >= Scratch.lineStart(s.partials) + 100);
        assertTrue(s.rows.length >= Scratch.lineStart(s.rows) + 200);
        Object product = new Object();
        float[] input = s.claimInput(product, 0);
        assertTrue(input.length >= s.inputStart() + 300);
        assertEquals(input, s.input(product, 0));
    }
}
