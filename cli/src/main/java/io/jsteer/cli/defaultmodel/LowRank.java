/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * A rank-{@code r} factorisation {@code A ~ left * right^T} from the truncated singular value
 * decomposition (Eckart-Young: the best rank-r approximation in Frobenius norm). Rows may be
 * weighted, {@code min sum_i w_i ||A_i - left_i right^T||^2}, by decomposing {@code diag(sqrt w) A}
 * and unweighting the left factor; weighting by how often a context occurs spends the rank on the
 * contexts that matter. The singular values are split evenly, {@code left = U S^1/2},
 * {@code right = V S^1/2}.
 */
record LowRank(double[][] left, double[][] right) {
    static LowRank of(double[][] a, double[] rowWeights, int rank) {
        int n = a.length, m = a[0].length;
        if (rank > Math.min(n, m)) throw new IllegalArgumentException("rank " + rank + " exceeds the matrix size " + n + "x" + m);
        DMatrixRMaj w = new DMatrixRMaj(n, m);
        for (int i = 0; i < n; i++) {
            double s = Math.sqrt(rowWeights[i]);
            for (int j = 0; j < m; j++) w.set(i, j, s * a[i][j]);
        }
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(n, m, true, true, true);
        if (!svd.decompose(w)) throw new IllegalStateException("SVD of the " + n + "x" + m + " statistics matrix did not converge");
        double[] sv = svd.getSingularValues();
        DMatrixRMaj u = svd.getU(null, false), v = svd.getV(null, false);
        Integer[] order = new Integer[sv.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(sv[y], sv[x]));
        double[][] left = new double[n][rank], right = new double[m][rank];
        for (int k = 0; k < rank; k++) {
            int c = order[k];
            double root = Math.sqrt(sv[c]);
            for (int i = 0; i < n; i++) left[i][k] = u.get(i, c) * root / Math.sqrt(rowWeights[i]);
            for (int j = 0; j < m; j++) right[j][k] = v.get(j, c) * root;
        }
        return new LowRank(left, right);
    }
}
