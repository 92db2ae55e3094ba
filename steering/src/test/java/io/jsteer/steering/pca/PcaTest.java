/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.pca;

import static io.jsteer.steering.MethodsReference.matrix;
import static io.jsteer.steering.MethodsReference.maxDiff;
import static io.jsteer.steering.MethodsReference.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.MethodsReference;
import org.junit.jupiter.api.Test;

/** repeng's pca_diff / pca_center against numpy, and the sign rule on its own. */
class PcaTest {
    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double[] planted(JsonNode c) {
        double[][] p = matrix(c.get("positive")), n = matrix(c.get("negative"));
        double[] u = new double[p[0].length];
        for (int i = 0; i < p.length; i++) for (int j = 0; j < u.length; j++) u[j] += p[i][j] - n[i][j];
        return u;
    }

    @Test
    void matchesRepengInNumpy() {
        for (JsonNode c : MethodsReference.load().get("pca")) {
            double[][] p = matrix(c.get("positive")), n = matrix(c.get("negative"));
            for (Pca.Variant v : Pca.Variant.values()) {
                JsonNode ref = c.get(v == Pca.Variant.DIFF ? "pca_diff" : "pca_center");
                Pca.Direction dir = Pca.direction(p, n, v);
                double err = maxDiff(vector(ref.get("direction")), dir.unit());
                System.out.printf("pca %s %s: max abs err %.3g, flipped by the vote: %s%n", c.get("name").asText(), v, err, dir.flipped());
                assertTrue(err < 1e-14, c.get("name").asText() + " " + v + ": " + err);
                assertEquals(ref.get("explained_variance_ratio").asDouble(), dir.explainedVarianceRatio(), 1e-12);
                assertEquals(ref.get("flipped").asBoolean(), dir.flipped());
                assertEquals(1, Math.sqrt(dot(dir.unit(), dir.unit())), 1e-14);
            }
        }
    }

    /**
     * The sign rule, from the data alone: positives project higher in most pairs; swapping the
     * sides negates the direction, so the rule still holds for the new positives; negating every
     * activation (which flips the SVD's input but not the contrast) keeps it too.
     */
    @Test
    void positivesProjectHigherInMostPairsWhateverTheInputSign() {
        for (JsonNode c : MethodsReference.load().get("pca")) {
            double[][] p = matrix(c.get("positive")), n = matrix(c.get("negative"));
            for (Pca.Variant v : Pca.Variant.values()) {
                double[] dir = Pca.direction(p, n, v).unit();
                assertTrue(votes(p, n, dir) > 0, c.get("name").asText() + " " + v);
                double[] swapped = Pca.direction(n, p, v).unit();
                assertTrue(votes(n, p, swapped) > 0);
                for (int j = 0; j < dir.length; j++) assertEquals(-dir[j], swapped[j], 1e-12);
                double[] negated = Pca.direction(negate(p), negate(n), v).unit();
                assertTrue(votes(negate(p), negate(n), negated) > 0);
                for (int j = 0; j < dir.length; j++) assertEquals(-dir[j], negated[j], 1e-12);
            }
        }
    }

    /** The planted direction is found, and where the mean and the vote disagree the vote wins (repeng's rule). */
    @Test
    void plantedDirectionAndTheVoteOverTheMean() {
        JsonNode cases = MethodsReference.load().get("pca");
        JsonNode planted = cases.get(0), vote = cases.get(1);
        double[] u = planted(planted);
        double nu = Math.sqrt(dot(u, u));
        for (Pca.Variant v : Pca.Variant.values()) {
            double cos = dot(Pca.direction(matrix(planted.get("positive")), matrix(planted.get("negative")), v).unit(), u) / nu;
            assertTrue(cos > 0.99, v + ": cos to the planted direction " + cos);
        }
        // in "vote-not-mean" 5 pairs step +0.3..0.5 along u, 4 pairs -2..-3.5: the summed difference points along -u
        double[][] p = matrix(vote.get("positive")), n = matrix(vote.get("negative"));
        double[] meanDiff = planted(vote);
        for (Pca.Variant v : Pca.Variant.values()) {
            Pca.Direction dir = Pca.direction(p, n, v);
            assertEquals(5, dir.higher());
            assertEquals(4, dir.lower());
            assertTrue(dot(dir.unit(), meanDiff) < 0, v + ": the mean projects lower, the vote still chooses the majority");
        }
    }

    @Test
    void degenerateInputIsRefused() {
        double[][] p = {{1, 2, 3}}, n = {{0, 1, 1}};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Pca.direction(p, n, Pca.Variant.DIFF)).getMessage().startsWith("pca_diff of one pair"));
        double[] center = Pca.direction(p, n, Pca.Variant.CENTER).unit();
        double[] d = {1, 1, 2};
        assertEquals(1, dot(center, d) / Math.sqrt(6), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Pca.direction(new double[][] {{1, 2}, {3, 4}}, new double[][] {{1, 2}}, Pca.Variant.DIFF));
    }

    private static int votes(double[][] p, double[][] n, double[] v) {
        int s = 0;
        for (int i = 0; i < p.length; i++) s += Double.compare(dot(p[i], v), dot(n[i], v));
        return s;
    }

    private static double[][] negate(double[][] m) {
        double[][] out = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
            for (int j = 0; j < out[i].length; j++) out[i][j] = -out[i][j];
        }
        return out;
    }
}
