/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.probe;

import org.apache.commons.math3.exception.MaxCountExceededException;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.ConjugateGradient;
import org.apache.commons.math3.linear.RealLinearOperator;
import org.apache.commons.math3.linear.RealVector;

/**
 * Binary logistic regression with an L2 penalty, fitted on any {@code (rows, labels)} arrays: the
 * linear probe of the {@link Probe} method, and reusable for per-head probes (ITI) or anything else
 * that needs one.
 *
 * <pre>
 *   z_i  = w . x_i + b                       (b = 0 without an intercept)
 *   L    = sum_i [ log(1 + exp(z_i)) - y_i z_i ] + (lambda / 2) |w|^2        y_i in {0, 1}
 *   fit  = argmin_{w, b} L                   (the intercept b is not penalised)
 * </pre>
 * This is scikit-learn's {@code LogisticRegression(penalty="l2", C=1/lambda)} objective
 * ({@code C = 1}, scikit-learn's default, is {@code lambda = 1}); features are used as given (no
 * standardisation). {@code lambda > 0} is required: without a penalty, separable classes (common
 * with fewer samples than dimensions) have no finite optimum.
 *
 * <p>Solver: Newton's method on the strictly convex {@code L}, each step solving
 * {@code H p = -g} by Commons Math's {@link ConjugateGradient} on Hessian-vector products
 * {@code H v = X^T (s * (X v)) + lambda v} with {@code s_i = p_i (1 - p_i)}, so the
 * {@code [d][d]} Hessian is never formed (cost per product {@code O(n d)}; at most
 * {@code 10 m + 100} products per step for {@code m} unknowns, CG's last iterate being used when
 * an ill-conditioned system does not reach the relative residual 1e-12 by then), followed by a
 * backtracking line search (Armijo; the full step is taken once the predicted decrease
 * {@code -g . p} is below {@code 1e-13 max(1, |L|)}, where comparing losses only compares rounding). It stops when {@code max |g| <= 1e-12 * max(1, max |g_0|)}
 * ({@code g_0}: the gradient at {@code w = 0, b = 0}), or when a step no longer changes
 * {@code (w, b)} beyond rounding ({@code max |step| <= 1e-15 (1 + max |theta|)}) or no longer
 * lowers {@code L}; all arithmetic is in double precision.
 * A prediction is positive when {@code z > 0} (scikit-learn's rule).
 */
public final class LogisticRegression {
    private static final int MAX_NEWTON_STEPS = 100;
    private static final double GRADIENT_TOLERANCE = 1e-12;
    private static final double CG_TOLERANCE = 1e-12;

    private LogisticRegression() {}

    /**
     * A fitted probe.
     *
     * @param weights      {@code w}, one per feature
     * @param intercept    {@code b} (0 when fitted without one)
     * @param lambda       the L2 penalty it was fitted with
     * @param newtonSteps  Newton steps taken
     * @param gradientNorm {@code max |g|} at the solution
     */
    public record Fit(double[] weights, double intercept, double lambda, int newtonSteps, double gradientNorm) {
        /** A copy of {@code w}. */
        @Override
        public double[] weights() {
            return weights.clone();
        }

        /** The decision value {@code z = w . x + b} of one row. */
        public double logit(double[] row) {
            if (row.length != weights.length) throw new IllegalArgumentException("row has " + row.length + " values, the probe " + weights.length);
            double z = intercept;
            for (int i = 0; i < row.length; i++) z += weights[i] * row[i];
            return z;
        }

        /** {@code P(positive | x) = sigmoid(z)}. */
        public double probability(double[] row) {
            return sigmoid(logit(row));
        }

        /** Fraction of rows whose prediction ({@code z > 0}) equals their label. */
        public double accuracy(double[][] rows, boolean[] labels) {
            requireShape(rows, labels);
            int right = 0;
            for (int i = 0; i < rows.length; i++) if ((logit(rows[i]) > 0) == labels[i]) right++;
            return (double) right / rows.length;
        }

        /** {@code w / |w|}; fails when {@code w} is zero (the probe found no direction). */
        public double[] unitDirection() {
            double n = 0;
            for (double v : weights) n += v * v;
            n = Math.sqrt(n);
            if (!(n > 0)) throw new IllegalStateException("the probe's weights are all zero: the classes are not separated along any direction");
            double[] u = new double[weights.length];
            for (int i = 0; i < u.length; i++) u[i] = weights[i] / n;
            return u;
        }
    }

    /** Fits with an intercept. */
    public static Fit fit(double[][] rows, boolean[] labels, double lambda) {
        return fit(rows, labels, lambda, true);
    }

    /**
     * Fits {@code w} (and {@code b} when {@code intercept}) on {@code rows[i]} labelled
     * {@code labels[i]} ({@code true} = the positive class). Both classes must occur.
     */
    public static Fit fit(double[][] rows, boolean[] labels, double lambda, boolean intercept) {
        requireShape(rows, labels);
        if (!(lambda > 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("the L2 penalty lambda must be finite and > 0, got " + lambda);
        int n = rows.length, d = rows[0].length;
        int positives = 0;
        for (boolean l : labels) if (l) positives++;
        if (positives == 0 || positives == n) throw new IllegalArgumentException("logistic regression needs rows of both classes, got " + positives + " positive of " + n);
        for (int i = 0; i < n; i++) {
            if (rows[i].length != d) throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values, row 0 has " + d);
            for (int j = 0; j < d; j++) if (!Double.isFinite(rows[i][j])) throw new IllegalArgumentException("row " + i + " has a non-finite value at " + j);
        }
        Problem p = new Problem(rows, labels, lambda, intercept);
        int m = d + (intercept ? 1 : 0);
        double[] theta = new double[m];
        double[] g = p.gradient(theta);
        double tolerance = GRADIENT_TOLERANCE * Math.max(1, maxAbs(g));
        double loss = p.loss(theta);
        int steps = 0;
        while (maxAbs(g) > tolerance) {
            if (steps == MAX_NEWTON_STEPS) {
                throw new IllegalStateException("logistic regression did not converge in " + MAX_NEWTON_STEPS + " Newton steps (max |gradient| " + maxAbs(g) + ")");
            }
            double[] dir = p.newtonDirection(theta, g);
            double slope = dot(g, dir);
            double t = 1;
            double[] next = new double[m];
            double nextLoss;
            int halvings = 0;
            while (true) {
                for (int i = 0; i < m; i++) next[i] = theta[i] + t * dir[i];
                nextLoss = p.loss(next);
                // once the predicted decrease is below the rounding of L, comparing losses says nothing: take the step
                if (nextLoss <= loss + 1e-4 * t * slope || -slope <= 1e-13 * Math.max(1, Math.abs(loss))) break;
                if (++halvings > 60) break;
                t /= 2;
            }
            if (halvings > 60) break; // no decrease left at double precision: theta is the optimum to rounding
            double moved = 0;
            for (int i = 0; i < m; i++) moved = Math.max(moved, Math.abs(next[i] - theta[i]));
            theta = next;
            loss = nextLoss;
            g = p.gradient(theta);
            steps++;
            if (moved <= 1e-15 * (1 + maxAbs(theta))) break;
        }
        double[] w = java.util.Arrays.copyOf(theta, d);
        return new Fit(w, intercept ? theta[d] : 0, lambda, steps, maxAbs(g));
    }

    /** {@code rows} given as {@code [n][width]} row-major floats. */
    public static Fit fit(float[] rows, int width, boolean[] labels, double lambda, boolean intercept) {
        return fit(toRows(rows, width), labels, lambda, intercept);
    }

    /** {@code [n][width]} row-major floats as {@code n} double rows. */
    public static double[][] toRows(float[] rows, int width) {
        if (width <= 0 || rows.length % width != 0) throw new IllegalArgumentException(rows.length + " values are not whole rows of width " + width);
        double[][] out = new double[rows.length / width][width];
        for (int r = 0; r < out.length; r++) for (int i = 0; i < width; i++) out[r][i] = rows[r * width + i];
        return out;
    }

    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    /** {@code log(1 + exp(z))} without overflow. */
    static double softplus(double z) {
        return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    }

    private static void requireShape(double[][] rows, boolean[] labels) {
        if (rows == null || labels == null || rows.length == 0) throw new IllegalArgumentException("logistic regression needs rows and labels");
        if (rows.length != labels.length) throw new IllegalArgumentException(rows.length + " rows but " + labels.length + " labels");
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** The objective over {@code theta = (w, b)}. */
    private static final class Problem {
        final double[][] x;
        final double[] y;
        final double lambda;
        final boolean intercept;
        final int d;

        Problem(double[][] x, boolean[] labels, double lambda, boolean intercept) {
            this.x = x;
            this.y = new double[labels.length];
            for (int i = 0; i < labels.length; i++) y[i] = labels[i] ? 1 : 0;
            this.lambda = lambda;
            this.intercept = intercept;
            this.d = x[0].length;
        }

        double z(double[] theta, int i) {
            double z = intercept ? theta[d] : 0;
            double[] row = x[i];
            for (int j = 0; j < d; j++) z += theta[j] * row[j];
            return z;
        }

        double loss(double[] theta) {
            double l = 0;
            for (int i = 0; i < x.length; i++) {
                double z = z(theta, i);
                l += softplus(z) - y[i] * z;
            }
            double w2 = 0;
            for (int j = 0; j < d; j++) w2 += theta[j] * theta[j];
            return l + lambda / 2 * w2;
        }

        double[] gradient(double[] theta) {
            double[] g = new double[theta.length];
            for (int i = 0; i < x.length; i++) {
                double r = sigmoid(z(theta, i)) - y[i];
                double[] row = x[i];
                for (int j = 0; j < d; j++) g[j] += r * row[j];
                if (intercept) g[d] += r;
            }
            for (int j = 0; j < d; j++) g[j] += lambda * theta[j];
            return g;
        }

        /** Solves {@code H p = -g} with conjugate gradients on Hessian-vector products. */
        double[] newtonDirection(double[] theta, double[] g) {
            double[] s = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                double p = sigmoid(z(theta, i));
                s[i] = p * (1 - p);
            }
            int m = theta.length;
            RealLinearOperator hessian = new RealLinearOperator() {
                @Override
                public int getRowDimension() {
                    return m;
                }

                @Override
                public int getColumnDimension() {
                    return m;
                }

                @Override
                public RealVector operate(RealVector v) {
                    double[] in = v.toArray();
                    double[] out = new double[m];
                    for (int i = 0; i < x.length; i++) {
                        double xv = intercept ? in[d] : 0;
                        double[] row = x[i];
                        for (int j = 0; j < d; j++) xv += row[j] * in[j];
                        double w = s[i] * xv;
                        for (int j = 0; j < d; j++) out[j] += w * row[j];
                        if (intercept) out[d] += w;
                    }
                    for (int j = 0; j < d; j++) out[j] += lambda * in[j];
                    return new ArrayRealVector(out, false);
                }
            };
            double[] minusG = new double[m];
            for (int i = 0; i < m; i++) minusG[i] = -g[i];
            // solveInPlace updates the start vector at every iteration, so a system too ill-conditioned to
            // reach the tolerance still yields CG's last iterate: a descent direction the line search can use
            RealVector p = new ArrayRealVector(m);
            try {
                new ConjugateGradient(10 * m + 100, CG_TOLERANCE, false).solveInPlace(hessian, null, new ArrayRealVector(minusG, false), p);
            } catch (MaxCountExceededException tooManyIterations) {
                // p holds the last iterate
            }
            return p.toArray();
        }
    }
}
