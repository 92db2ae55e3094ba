/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.PositionRule;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.Composition;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Composition rules on the Pythia fixture: what each row receives (read before and after the
 * composition at its hook) against Commons Math (QR for the priority rule's Gram-Schmidt), per set
 * of parts selecting the row, and each rule's defining property.
 */
class CompositionTest {
    static Model model;
    static HookName hook = new HookName(1, HookPoint.RESID_POST);
    static int[] prompt = {5, 17, 3, 99, 42, 8};
    static List<AddVector> parts;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        int d = model.config().hiddenSize();
        Random rnd = new Random(3);
        float[][] v = new float[3][d];
        for (int i = 0; i < d; i++) {
            v[0][i] = (float) rnd.nextGaussian();
            v[1][i] = (float) (0.8 * v[0][i] + 0.6 * rnd.nextGaussian());
            v[2][i] = (float) rnd.nextGaussian();
        }
        // all rows; prompt rows only; rows >= 3: rows 0-2 get parts {0, 1}, 3-5 get {0, 1, 2}, generated rows {0, 2}
        List<PositionRule> rules = List.of(PositionRule.all(), PositionRule.promptOnly(), PositionRule.from(3));
        double[] coeffs = {2, -1.5, 3};
        parts = new ArrayList<>();
        for (int j = 0; j < 3; j++) parts.add(new AddVector(new SteeringVector(hook, v[j], "test", Map.of(), "m"), coeffs[j], rules.get(j)));
    }

    /** {@code x_after - x_before} at the hook for every row, over the prompt and one generated token. */
    static List<double[]> added(Composition c) {
        State s = model.newState();
        List<float[]> before = new ArrayList<>(), after = new ArrayList<>();
        s.hooks().add(hook, (ctx, x) -> before.add(java.util.Arrays.copyOf(x, ctx.tokens() * ctx.width())));
        c.attach(s);
        s.hooks().add(hook, (ctx, x) -> after.add(java.util.Arrays.copyOf(x, ctx.tokens() * ctx.width())));
        model.forward(s, prompt, false);
        model.forward(s, new int[] {7}, false);
        int d = model.config().hiddenSize();
        List<double[]> rows = new ArrayList<>();
        for (int call = 0; call < before.size(); call++) {
            for (int off = 0; off < before.get(call).length; off += d) {
                double[] r = new double[d];
                for (int i = 0; i < d; i++) r[i] = (double) after.get(call)[off + i] - before.get(call)[off + i];
                rows.add(r);
            }
        }
        return rows;
    }

    static int[] active(int row) {
        return row < 3 ? new int[] {0, 1} : row < 6 ? new int[] {0, 1, 2} : new int[] {0, 2};
    }

    static double[] scaled(int j) {
        float[] v = parts.get(j).vector().direction();
        double[] a = new double[v.length];
        for (int i = 0; i < v.length; i++) a[i] = (float) (parts.get(j).coefficient() * v[i]);
        return a;
    }

    /** The priority rule's remainders r_j by Commons Math's QR of [a_1 .. a_m]: r_j = q_j (q_j . a_j). */
    static List<double[]> remainders(int[] js) {
        int d = model.config().hiddenSize();
        RealMatrix a = new Array2DRowRealMatrix(d, js.length);
        for (int k = 0; k < js.length; k++) a.setColumn(k, scaled(js[k]));
        RealMatrix q = new QRDecomposition(a).getQ();
        List<double[]> r = new ArrayList<>();
        for (int k = 0; k < js.length; k++) {
            double[] qk = q.getColumn(k);
            double c = 0;
            for (int i = 0; i < d; i++) c += qk[i] * a.getEntry(i, k);
            double[] rk = new double[d];
            for (int i = 0; i < d; i++) rk[i] = c * qk[i];
            r.add(rk);
        }
        return r;
    }

    static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }

    static void assertRow(double[] want, double[] got, String what) {
        double scale = Math.max(1, norm(want));
        // the addition is rounded to float and added to activations of magnitude ~1-10: a few ulps of those
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 4e-6 * scale, what + " [" + i + "]");
    }

    @Test
    void sumIsAttachingTheVectorsInOrder() {
        List<double[]> composed = added(new Composition(parts, Composition.Rule.SUM, Double.NaN));
        State s = model.newState();
        for (AddVector p : parts) p.attach(s);
        float[] one = model.forward(s, prompt, false);
        State t = model.newState();
        new Composition(parts, Composition.Rule.SUM, Double.NaN).attach(t);
        assertArrayEquals(one, model.forward(t, prompt, false));
        for (int row = 0; row < composed.size(); row++) {
            double[] want = new double[composed.get(row).length];
            for (int j : active(row)) {
                double[] a = scaled(j);
                for (int i = 0; i < want.length; i++) want[i] += a[i];
            }
            assertRow(want, composed.get(row), "sum row " + row);
        }
    }

    @Test
    void maxNormCapsTheCombinedAddition() {
        double cap = 6;
        List<double[]> rows = added(new Composition(parts, Composition.Rule.MAX_NORM, cap));
        for (int row = 0; row < rows.size(); row++) {
            double[] sum = new double[rows.get(row).length];
            for (int j : active(row)) {
                double[] a = scaled(j);
                for (int i = 0; i < sum.length; i++) sum[i] += a[i];
            }
            double n = norm(sum);
            assertTrue(n > cap, "the test's sums exceed the cap");
            for (int i = 0; i < sum.length; i++) sum[i] *= cap / n;
            assertRow(sum, rows.get(row), "max-norm row " + row);
            assertEquals(cap, norm(rows.get(row)), 1e-4, "norm of row " + row);
        }
    }

    @Test
    void priorityKeepsTheHigherPartsAndFillsTheBudgetInOrder() {
        List<double[]> rows = added(new Composition(parts, Composition.Rule.PRIORITY, Double.POSITIVE_INFINITY));
        for (int row = 0; row < rows.size(); row++) {
            double[] want = new double[rows.get(row).length];
            for (double[] r : remainders(active(row))) for (int i = 0; i < want.length; i++) want[i] += r[i];
            assertRow(want, rows.get(row), "priority row " + row);
            // the defining property: along a_1 the row gets exactly a_1's own amount
            double[] a1 = scaled(0);
            double along = 0;
            for (int i = 0; i < a1.length; i++) along += rows.get(row)[i] * a1[i];
            assertEquals(norm(a1), along / norm(a1), 1e-4, "row " + row + " along a_1");
        }
        // a budget between |r_1| and |r_1| + |r_2|: r_1 whole, r_2 cut to fill it, r_3 dropped
        List<double[]> r = remainders(new int[] {0, 1, 2});
        double n1 = norm(r.get(0)), n2 = norm(r.get(1));
        double budget = Math.sqrt(n1 * n1 + 0.25 * n2 * n2);
        List<double[]> capped = added(new Composition(parts, Composition.Rule.PRIORITY, budget));
        double[] want = new double[r.get(0).length];
        for (int i = 0; i < want.length; i++) want[i] = r.get(0)[i] + 0.5 * r.get(1)[i];
        assertRow(want, capped.get(4), "priority with a budget, row 4");
        assertEquals(budget, norm(capped.get(4)), 1e-4);
    }

    @Test
    void badRulesAreRefused() {
        assertEquals("max-norm needs a finite norm > 0, got Infinity",
                assertThrows(IllegalArgumentException.class, () -> new Composition(parts, Composition.Rule.MAX_NORM, Double.POSITIVE_INFINITY)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Composition(List.of(), Composition.Rule.SUM, 1));
    }
}
