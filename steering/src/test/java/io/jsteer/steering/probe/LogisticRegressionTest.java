/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.probe;

import static io.jsteer.steering.MethodsReference.booleans;
import static io.jsteer.steering.MethodsReference.matrix;
import static io.jsteer.steering.MethodsReference.maxDiff;
import static io.jsteer.steering.MethodsReference.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.MethodsReference;
import org.junit.jupiter.api.Test;

/** The probe's logistic regression against numpy's dense Newton solve, and its optimality conditions. */
class LogisticRegressionTest {
    @Test
    void matchesNumpyNewton() {
        for (JsonNode c : MethodsReference.load().get("probe")) {
            String name = c.get("name").asText();
            double[][] x = matrix(c.get("x"));
            boolean[] y = booleans(c.get("labels"));
            LogisticRegression.Fit fit = LogisticRegression.fit(x, y, c.get("lambda").asDouble(), c.get("intercept").asBoolean());
            double[] w = vector(c.get("weights"));
            double scale = Math.max(1, Math.abs(c.get("bias").asDouble()));
            for (double v : w) scale = Math.max(scale, Math.abs(v));
            double err = Math.max(maxDiff(w, fit.weights()), Math.abs(c.get("bias").asDouble() - fit.intercept()));
            System.out.printf("probe %s: max |w - w_numpy| %.3g (scale %.3g), %d Newton steps, max |g| %.3g%n", name, err, scale, fit.newtonSteps(), fit.gradientNorm());
            assertTrue(err <= 2e-11 * scale, name + ": weights differ from numpy's by " + err);
            assertEquals(c.get("train_accuracy").asDouble(), fit.accuracy(x, y), 0, name);
            assertEquals(c.get("test_accuracy").asDouble(), fit.accuracy(matrix(c.get("test_x")), booleans(c.get("test_labels"))), 0, name);
        }
    }

    /** The defining property, computed here from the data alone: the penalised gradient vanishes at the fit. */
    @Test
    void gradientVanishesAtTheFit() {
        java.util.Random rnd = new java.util.Random(7);
        int n = 30, d = 12;
        double[][] x = new double[n][d];
        boolean[] y = new boolean[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) x[i][j] = rnd.nextGaussian() * (1 + j) + (i % 2 == 0 ? 0.5 : -0.5);
            y[i] = i % 2 == 0;
        }
        for (double lambda : new double[] {0.01, 1, 50}) {
            LogisticRegression.Fit fit = LogisticRegression.fit(x, y, lambda);
            double[] w = fit.weights();
            double[] g = new double[d + 1];
            for (int i = 0; i < n; i++) {
                double z = fit.intercept();
                for (int j = 0; j < d; j++) z += w[j] * x[i][j];
                double r = 1 / (1 + Math.exp(-z)) - (y[i] ? 1 : 0);
                for (int j = 0; j < d; j++) g[j] += r * x[i][j];
                g[d] += r;
            }
            double worst = 0;
            for (int j = 0; j < d; j++) worst = Math.max(worst, Math.abs(g[j] + lambda * w[j]));
            worst = Math.max(worst, Math.abs(g[d]));
            System.out.printf("lambda %s: max |gradient| %.3g%n", lambda, worst);
            assertTrue(worst < 1e-12, "lambda " + lambda + ": gradient " + worst);
        }
    }

    @Test
    void unitDirectionAndProbability() {
        LogisticRegression.Fit fit = new LogisticRegression.Fit(new double[] {3, 4}, -1, 1, 0, 0);
        assertEquals(0.6, fit.unitDirection()[0], 1e-15);
        assertEquals(0.8, fit.unitDirection()[1], 1e-15);
        assertEquals(1 / (1 + Math.exp(-(3 * 1 + 4 * 2 - 1))), fit.probability(new double[] {1, 2}), 1e-15);
        assertEquals(0.5, fit.accuracy(new double[][] {{1, 1}, {-1, -1}}, new boolean[] {false, false}));
    }

    @Test
    void badInputIsRefused() {
        double[][] x = {{1, 2}, {3, 4}};
        assertEquals("logistic regression needs rows of both classes, got 2 positive of 2",
                assertThrows(IllegalArgumentException.class, () -> LogisticRegression.fit(x, new boolean[] {true, true}, 1)).getMessage());
        assertEquals("the L2 penalty lambda must be finite and > 0, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> LogisticRegression.fit(x, new boolean[] {true, false}, 0)).getMessage());
        assertEquals("2 rows but 1 labels", assertThrows(IllegalArgumentException.class, () -> LogisticRegression.fit(x, new boolean[] {true}, 1)).getMessage());
        assertEquals("row 1 has a non-finite value at 0",
                assertThrows(IllegalArgumentException.class, () -> LogisticRegression.fit(new double[][] {{1, 2}, {Double.NaN, 4}}, new boolean[] {true, false}, 1)).getMessage());
    }
}
