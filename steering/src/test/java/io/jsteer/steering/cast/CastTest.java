/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.cast;

import static io.jsteer.steering.MethodsReference.matrix;
import static io.jsteer.steering.MethodsReference.maxDiff;
import static io.jsteer.steering.MethodsReference.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.MethodsReference;
import io.jsteer.steering.pca.Pca;
import org.junit.jupiter.api.Test;

/** CAST's condition: similarity and the threshold search against IBM's rules written in numpy. */
class CastTest {
    @Test
    void similarityAndSearchMatchNumpy() {
        JsonNode c = MethodsReference.load().get("cast").get(0);
        double[][] p = matrix(c.get("positive")), n = matrix(c.get("negative"));
        double[] condition = Pca.direction(p, n, Pca.Variant.CENTER).unit();
        assertTrue(maxDiff(vector(c.get("condition")), condition) < 1e-14);
        double[] want = vector(c.get("similarities"));
        double[] sp = new double[p.length], sn = new double[n.length];
        for (int i = 0; i < p.length; i++) sp[i] = Cast.similarity(p[i], condition);
        for (int i = 0; i < n.length; i++) sn[i] = Cast.similarity(n[i], condition);
        double err = 0;
        for (int i = 0; i < p.length; i++) err = Math.max(err, Math.abs(sp[i] - want[i]));
        for (int i = 0; i < n.length; i++) err = Math.max(err, Math.abs(sn[i] - want[p.length + i]));
        System.out.printf("cast similarity: max abs err %.3g%n", err);
        assertTrue(err < 1e-14, "similarity " + err);
        Cast.Condition found = Cast.search(sp, sn);
        assertEquals(c.get("threshold").asDouble(), found.threshold());
        assertEquals(Cast.Comparator.valueOf(c.get("comparator").asText().toUpperCase()), found.comparator());
        assertEquals(c.get("f1").asDouble(), found.f1(), 1e-15);
        // the flipped condition vector gives the same similarities (tanh is odd)
        double[] flipped = condition.clone();
        for (int i = 0; i < flipped.length; i++) flipped[i] = -flipped[i];
        assertEquals(sp[0], Cast.similarity(p[0], flipped), 1e-15);
    }

    /** IBM's comparator naming: "larger" means the threshold is larger, so it matches smaller similarities; ties go to the first best. */
    @Test
    void comparatorsAndTies() {
        Cast.Condition larger = new Cast.Condition(0.5, Cast.Comparator.LARGER, Double.NaN);
        assertTrue(larger.met(0.49));
        assertFalse(larger.met(0.5));
        assertFalse(larger.met(0.51));
        Cast.Condition smaller = new Cast.Condition(0.5, Cast.Comparator.SMALLER, Double.NaN);
        assertTrue(smaller.met(0.51));
        assertFalse(smaller.met(0.5));
        // positives low, negatives high: "larger" with the first threshold above every positive
        Cast.Condition low = Cast.search(new double[] {0.1, 0.2}, new double[] {0.7, 0.8});
        assertEquals(Cast.Comparator.LARGER, low.comparator());
        assertEquals(0.2, low.threshold());
        assertEquals(1.0, low.f1());
        // positives high: "smaller" at the first threshold at or above the highest negative
        Cast.Condition high = Cast.search(new double[] {0.7, 0.8}, new double[] {0.1, 0.2});
        assertEquals(Cast.Comparator.SMALLER, high.comparator());
        assertEquals(0.2, high.threshold());
        assertThrows(IllegalArgumentException.class, () -> Cast.search(new double[0], new double[] {0.5}));
    }
}
