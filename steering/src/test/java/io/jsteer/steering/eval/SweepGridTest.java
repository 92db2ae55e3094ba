/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SweepGridTest {
    @Test
    void pointsAreLayerMajorThenKThenCoefficient() {
        SweepGrid g = new SweepGrid(List.of(1, 3), List.of(0.5, 2.0), List.of(4, 16));
        assertEquals(8, g.size());
        List<SweepPoint> p = g.points();
        assertEquals(8, p.size());
        assertEquals(new SweepPoint(1, 0.5, OptionalInt.of(4)), p.get(0));
        assertEquals(new SweepPoint(1, 2.0, OptionalInt.of(4)), p.get(1));
        assertEquals(new SweepPoint(1, 0.5, OptionalInt.of(16)), p.get(2));
        assertEquals(new SweepPoint(3, 2.0, OptionalInt.of(16)), p.get(7));
    }

    @Test
    void withoutKEveryPointHasNone() {
        List<SweepPoint> p = SweepGrid.of(List.of(0), List.of(1.0, 2.0, 3.0)).points();
        assertEquals(List.of(new SweepPoint(0, 1, OptionalInt.empty()), new SweepPoint(0, 2, OptionalInt.empty()), new SweepPoint(0, 3, OptionalInt.empty())), p);
    }

    @Test
    void badGridsAreRejected() {
        assertEquals("sweep needs at least one layer", assertThrows(IllegalArgumentException.class, () -> SweepGrid.of(List.of(), List.of(1.0))).getMessage());
        assertEquals("sweep coefficients [1.0, 1.0] contain duplicates", assertThrows(IllegalArgumentException.class, () -> SweepGrid.of(List.of(1), List.of(1.0, 1.0))).getMessage());
        assertEquals("sweep k must be >= 1, got 0", assertThrows(IllegalArgumentException.class, () -> new SweepGrid(List.of(1), List.of(1.0), List.of(0)).points()).getMessage());
        assertEquals("sweep layer must be >= 0, got -1", assertThrows(IllegalArgumentException.class, () -> SweepGrid.of(List.of(-1), List.of(1.0)).points()).getMessage());
    }
}
