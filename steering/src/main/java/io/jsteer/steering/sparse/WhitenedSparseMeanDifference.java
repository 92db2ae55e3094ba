/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sparse;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.TopK;
import io.jsteer.steering.vector.VectorMethod;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Whitened sparse mean difference: the mean difference mapped through the inverse of the
 * regularised pooled covariance (the linear discriminant direction, Fisher 1936), then kept on its
 * {@code k} largest-magnitude coordinates.
 *
 * <pre>
 *   d      = mu+ - mu-
 *   S+, S- = unbiased sample covariances (n - 1 denominators) of the positive / negative samples
 *   Sigma  = ((n+ - 1) S+ + (n- - 1) S-) / (n+ + n- - 2)          (pooled covariance)
 *   lambda = shrinkage * trace(Sigma) / dim
 *   w      = (Sigma + lambda I)^-1 d                              (Cholesky solve, double precision)
 *   v_i    = w_i if |w_i| is among the k largest |w|, else 0      (ties: larger |d_i|, then lower index)
 *   steering: h[t] += c * v
 * </pre>
 * {@code v} keeps the values of {@code w}, not of {@code d}: the coefficient multiplies the
 * whitened direction. {@code Sigma + lambda I} must be positive definite; with fewer samples than
 * dimensions that needs {@code shrinkage > 0}. Samples are the readout rows (one per prompt for
 * the default last-token readout); they are kept in memory ({@code n x dim} floats) plus one
 * {@code dim x dim} double matrix.
 */
public final class WhitenedSparseMeanDifference implements VectorMethod {
    private final HookName hook;
    private final double coefficient;
    private final int k;
    private final double shrinkage;
    private final Readout readout;
    private final PositionRule positions;

    /** Last-token readout, added at all positions. */
    public WhitenedSparseMeanDifference(HookName hook, double coefficient, int k, double shrinkage) {
        this(hook, coefficient, k, shrinkage, Readout.last(), PositionRule.all());
    }

    /** Fits at {@code hook}, reading the rows {@code readout} selects, keeps the {@code k} largest whitened coordinates ({@code shrinkage} sets the ridge), adds {@code coefficient} times the result at {@code positions}. */
    public WhitenedSparseMeanDifference(HookName hook, double coefficient, int k, double shrinkage, Readout readout, PositionRule positions) {
        if (hook == null || readout == null || positions == null) throw new IllegalArgumentException("whitened mean difference needs a hook point, a readout and a position rule");
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        if (!(shrinkage >= 0) || Double.isInfinite(shrinkage)) throw new IllegalArgumentException("shrinkage must be a finite number >= 0, got " + shrinkage);
        this.hook = hook;
        this.coefficient = coefficient;
        this.k = k;
        this.shrinkage = shrinkage;
        this.readout = readout;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "whitened-sparse-mean-diff";
    }

    @Override
    public SteeringVector fitVector(Model model, ContrastSet data) {
        int d = model.config().hiddenSize();
        if (k > d) throw new IllegalArgumentException("k must be in [1, " + d + "], got " + k);
        float[] pos = rows(model, data.positive());
        float[] neg = rows(model, data.negative());
        double[] v = select(pos, neg, d, shrinkage, k);
        return new SteeringVector(hook, TopK.toFloat(v), name(),
                Map.of("k", Integer.toString(k), "shrinkage", Double.toString(shrinkage), "readout", readout.describe()),
                SteeringVector.modelId(model.config()));
    }

    @Override
    public AddVector fit(Model model, ContrastSet data) {
        return new AddVector(fitVector(model, data), coefficient, positions);
    }

    private float[] rows(Model model, List<int[]> prompts) {
        Activations a = ActivationCache.record(model, prompts, List.of(hook), readout);
        return a.stacked(hook);
    }

    /** {@code w} kept on its {@code k} largest-magnitude coordinates; inputs are {@code [n][dim]} row-major samples. */
    public static double[] select(float[] positive, float[] negative, int dim, double shrinkage, int k) {
        double[] w = whitened(positive, negative, dim, shrinkage);
        double[] diff = meanDifference(positive, negative, dim);
        return TopK.keepOnly(w, TopK.indices(TopK.abs(w), TopK.abs(diff), k));
    }

    /** {@code w = (Sigma + lambda I)^-1 (mu+ - mu-)}; inputs are {@code [n][dim]} row-major samples. */
    public static double[] whitened(float[] positive, float[] negative, int dim, double shrinkage) {
        int np = count(positive, dim, "positive"), nn = count(negative, dim, "negative");
        if (np + nn <= 2) throw new IllegalArgumentException("pooled covariance needs more than 2 samples in all; got " + np + " positive and " + nn + " negative");
        DMatrixRMaj scatter = new DMatrixRMaj(dim, dim);
        double[] mp = addScatter(positive, np, dim, scatter);
        double[] mn = addScatter(negative, nn, dim, scatter);
        CommonOps_DDRM.divide(scatter, np + nn - 2);
        double lambda = shrinkage * CommonOps_DDRM.trace(scatter) / dim;
        for (int i = 0; i < dim; i++) scatter.add(i, i, lambda);
        DMatrixRMaj rhs = new DMatrixRMaj(dim, 1);
        for (int i = 0; i < dim; i++) rhs.set(i, 0, mp[i] - mn[i]);
        LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.chol(dim);
        if (!chol.setA(scatter)) {
            throw new IllegalArgumentException("pooled covariance + " + lambda + " I is not positive definite (" + (np + nn) + " samples in "
                    + dim + " dimensions, shrinkage " + shrinkage + "): raise the shrinkage");
        }
        DMatrixRMaj w = new DMatrixRMaj(dim, 1);
        chol.solve(rhs, w);
        return w.getData().clone();
    }

    private static int count(float[] rows, int dim, String side) {
        if (rows.length == 0 || rows.length % dim != 0) throw new IllegalArgumentException(side + " samples: " + rows.length + " values are not whole rows of width " + dim);
        return rows.length / dim;
    }

    /** Adds the centred scatter {@code sum (x - mu)(x - mu)^T} of {@code rows} to {@code scatter}; returns {@code mu}. */
    private static double[] addScatter(float[] rows, int n, int dim, DMatrixRMaj scatter) {
        double[] mu = mean(rows, n, dim);
        DMatrixRMaj centred = new DMatrixRMaj(n, dim);
        for (int r = 0; r < n; r++) for (int i = 0; i < dim; i++) centred.set(r, i, rows[r * dim + i] - mu[i]);
        CommonOps_DDRM.multAddTransA(centred, centred, scatter);
        return mu;
    }

    private static double[] mean(float[] rows, int n, int dim) {
        double[] mu = new double[dim];
        for (int r = 0; r < n; r++) for (int i = 0; i < dim; i++) mu[i] += rows[r * dim + i];
        for (int i = 0; i < dim; i++) mu[i] /= n;
        return mu;
    }

    private static double[] meanDifference(float[] positive, float[] negative, int dim) {
        double[] a = mean(positive, positive.length / dim, dim), b = mean(negative, negative.length / dim, dim);
        for (int i = 0; i < dim; i++) a[i] -= b[i];
        return a;
    }
}
