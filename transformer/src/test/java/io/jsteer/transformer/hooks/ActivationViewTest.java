/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** The shaped view of a hook's activations. */
class ActivationViewTest {
    static final HookName POINT = new HookName(1, HookPoint.RESID_PRE);

    /** Rows 0..2 of width 4 at positions 5..7 of a sequence with a 6-token prompt; x[r][i] = 10 r + i. */
    private static ActivationView view(float[] x) {
        for (int r = 0; r < 3; r++) for (int i = 0; i < 4; i++) x[r * 4 + i] = 10 * r + i;
        return new ActivationView(new HookContext(POINT, 5, 3, 4, 6), x);
    }

    @Test
    void shapePositionsAndValues() {
        float[] x = new float[12];
        ActivationView a = view(x);
        assertEquals(3, a.rows());
        assertEquals(4, a.width());
        assertEquals(POINT, a.name());
        assertEquals(6, a.promptLength());
        assertEquals(5, a.position(0));
        assertEquals(7, a.position(2));
        assertEquals(21f, a.get(2, 1));
        assertArrayEquals(new float[] {10, 11, 12, 13}, a.copyRow(1));
        assertEquals(1 * 10 + 2 * 11 + 3 * 12 + 4 * 13, a.dot(1, new float[] {1, 2, 3, 4}), 0);
        assertEquals("blocks.1.hook_resid_pre [3 x 4] at positions 5..7", a.toString());
    }

    @Test
    void writesReachTheActivations() {
        float[] x = new float[12];
        ActivationView a = view(x);
        a.set(0, 3, -1f);
        assertEquals(-1f, x[3]);
        FloatBuffer row2 = a.row(2);
        assertEquals(4, row2.remaining());
        assertEquals(20f, row2.get(0));
        row2.put(1, 99f);
        assertEquals(99f, x[2 * 4 + 1]);
        a.add(1, new float[] {1, 1, 1, 1}, 0.5);
        assertArrayEquals(new float[] {10.5f, 11.5f, 12.5f, 13.5f}, new float[] {x[4], x[5], x[6], x[7]});
        assertTrue(a.array() == x, "array() is the activations, not a copy");
    }

    @Test
    void outOfRangeIsRefusedNamingThePoint() {
        ActivationView a = view(new float[12]);
        assertEquals("row 3 is outside 0..2 of blocks.1.hook_resid_pre", assertThrows(IndexOutOfBoundsException.class, () -> a.get(3, 0)).getMessage());
        assertEquals("coordinate 4 is outside 0..3 of blocks.1.hook_resid_pre", assertThrows(IndexOutOfBoundsException.class, () -> a.set(0, 4, 1)).getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> a.row(-1));
        assertEquals("vector of 3 values at blocks.1.hook_resid_pre, whose width is 4",
                assertThrows(IllegalArgumentException.class, () -> a.add(0, new float[3], 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ActivationView(new HookContext(POINT, 0, 3, 4, 3), new float[11]));
    }
}
