/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * A seeded random orthonormal basis of the residual stream whose first vector is the all-ones
 * direction. LayerNorm removes that direction (the mean) and rescales the rest; every other basis
 * vector has zero mean, so a residual built from them passes LayerNorm as a pure rescaling.
 * Using a random rotation rather than coordinate axes keeps the planted features from looking
 * special to anything that inspects single coordinates.
 */
final class ResidualBasis {
    private final int d;
    private final double[][] columns; // columns[k] = k-th basis vector

    ResidualBasis(int d, long seed) {
        this.d = d;
        SplittableRandom random = new SplittableRandom(seed);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        for (int i = 0; i < d; i++) {
            m.set(i, 0, 1);
            for (int j = 1; j < d; j++) m.set(i, j, random.nextGaussian());
        }
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, d);
        if (!qr.decompose(m)) throw new IllegalStateException("QR decomposition of the random basis failed");
        DMatrixRMaj q = qr.getQ(null, false);
        columns = new double[d][d];
        for (int k = 0; k < d; k++) for (int i = 0; i < d; i++) columns[k][i] = q.get(i, k);
    }

    int dim() {
        return d;
    }

    /** Basis vector {@code k} (k = 0 is the mean direction). */
    double[] vector(int k) {
        return columns[k].clone();
    }

    /** {@code sum_k coords[k] * vector(k)} as float32. */
    float[] combine(double[] coords) {
        double[] out = new double[d];
        for (int k = 0; k < d; k++) {
            double c = coords[k];
            if (c == 0) continue;
            double[] col = columns[k];
            for (int i = 0; i < d; i++) out[i] += c * col[i];
        }
        float[] f = new float[d];
        for (int i = 0; i < d; i++) f[i] = (float) out[i];
        return f;
    }
}
