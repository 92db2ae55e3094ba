/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/**
 * {@link Scratch#LINE_START} against the JVM's own account of where a float array's elements
 * start (sun.misc.Unsafe, used here only), and the padding that makes G1 place the blocks at a
 * region boundary.
 */
class ScratchTest {
    private static final int LINE = 64;
    /** Scratch pads an array to half a G1 region only up to this many bytes. */
    private static final long MOST_PADDING = 4 << 20;

    @Test
    void lineStartIsTheFirstCacheLineOfAHumongousArray() throws ReflectiveOperationException {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        long region = Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
        if (!Boolean.parseBoolean(vm.getVMOption("UseG1GC").getValue()) || region / 2 > MOST_PADDING) {
            assertEquals(0, Scratch.LINE_START, "alignment is only known under G1, with arrays padded at most 4 MB");
            return;
        }
        Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        @SuppressWarnings("removal")
        long base = ((sun.misc.Unsafe) field.get(null)).arrayBaseOffset(float[].class);
        assertTrue(Scratch.LINE_START > 0 && Scratch.LINE_START < LINE / Float.BYTES);
        // a humongous array starts a region, so its element LINE_START starts a cache line
        assertEquals(0, (base + (long) Float.BYTES * Scratch.LINE_START) % LINE);
        Scratch s = Scratch.of(1, 1, 1);
        for (float[] block : new float[][] {s.partials, s.rows}) {
            assertTrue((long) Float.BYTES * block.length >= region / 2, "smaller than half a region: not humongous");
        }
    }
}
