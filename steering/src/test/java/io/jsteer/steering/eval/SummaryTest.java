/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SummaryTest {
    @Test
    void meanAndIntervalMatchScipy() {
        // scipy.stats.t.interval(0.95, n-1, loc=mean, scale=sd/sqrt(n)), sd with ddof=1
        Summary s = Summary.of(new double[] {2.1, 3.4, 1.9, 5.0, 4.2, 3.3, 2.8});
        assertEquals(7, s.n());
        assertEquals(3.2428571428571433, s.mean(), 1e-12);
        assertEquals(1.105828713163636, s.sd(), 1e-12);
        assertEquals(2.2201361591197406, s.low(), 1e-9);
        assertEquals(4.265578126594546, s.high(), 1e-9);
    }

    @Test
    void twoValuesUseTheWideT1Quantile() {
        // t(0.975, 1) = 12.706...: mean 2.5, sd 2.1213, half width 12.706 * 1.5 = 19.059
        Summary s = Summary.of(new double[] {1, 4});
        assertEquals(-16.55930710426204, s.low(), 1e-9);
        assertEquals(21.55930710426204, s.high(), 1e-9);
    }

    @Test
    void singleValueHasNoInterval() {
        Summary s = Summary.of(new double[] {1.5});
        assertEquals(1.5, s.mean());
        assertTrue(Double.isNaN(s.sd()) && Double.isNaN(s.low()) && Double.isNaN(s.high()));
    }

    @Test
    void rejectsEmptyAndNonFinite() {
        assertThrows(IllegalArgumentException.class, () -> Summary.of(new double[0]));
        var e = assertThrows(IllegalArgumentException.class, () -> Summary.of(new double[] {1, Double.NaN}));
        assertEquals("sample value 1 is NaN", e.getMessage());
    }
}
