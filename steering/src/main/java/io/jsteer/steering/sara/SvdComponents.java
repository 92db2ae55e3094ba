/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sara;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The per-neuron coordinates SARA compares: for an activation matrix {@code A = U S V^T} of shape
 * {@code [tokens][d]}, the {@code [d][k]} matrix {@code C = V_k S_k} (right singular vectors scaled
 * by their singular values, largest first). Row {@code i} of {@code C} describes neuron {@code i}
 * in the matrix's top-{@code k} token subspace; it is {@code U_k^T A[:, i]}.
 *
 * <p>Sign convention: singular vectors are defined up to sign, and the flip of component {@code j}
 * flips column {@code j} of {@code C}. SARA's cosine of neuron {@code i},
 * {@code sum_j C_s[i][j] C_a[i][j] / (|C_s[i]| |C_a[i]|)}, is sign-sensitive: the norms do not
 * change with a flip, the products do, so flipping component {@code j} of one matrix changes every
 * neuron's cosine (with {@code k = 1}, a single row, it negates them all), while flipping it in the
 * steered, attract and repel matrices together leaves the factors as they were. The three SVDs are
 * independent, so the factors are only defined once a sign rule is. Here each right singular
 * vector is flipped so that its entry of largest magnitude (the lowest index among equals) is
 * positive, making {@code C} a function of {@code A} alone. The reference code
 * ({@code torch.linalg.svd} of the transposed {@code [d][tokens]} matrix, whose {@code U_k S_k} is
 * this {@code C}) has no rule: it keeps the signs LAPACK returns, which depend on the routine, the
 * library build and the precision rather than on the matrix alone, and so do its factors; numpy's
 * {@code np.linalg.svd} is no different. The SARA tests reproduce the reference code's factors under
 * torch's signs by flipping the columns torch flipped ({@code make_sara_reference.py} records them),
 * and the README gives how far they are from this rule's.
 */
public final class SvdComponents {
    private SvdComponents() {}

    /**
     * {@code C} for the {@code [n][d]} row-major matrix {@code rows}, with {@code k <= min(n, d)}
     * components; returned {@code [d][k]} row-major. Computed in double precision with EJML.
     */
    public static double[] of(float[] rows, int n, int d, int k) {
        if (n <= 0 || d <= 0 || rows.length != n * d) throw new IllegalArgumentException(rows.length + " values are not a [" + n + "][" + d + "] matrix");
        if (k < 1 || k > Math.min(n, d)) throw new IllegalArgumentException("k must be in [1, " + Math.min(n, d) + "], got " + k);
        DMatrixRMaj a = new DMatrixRMaj(n, d);
        for (int i = 0; i < rows.length; i++) a.data[i] = rows[i];
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(n, d, false, true, true);
        if (!svd.decompose(a)) throw new IllegalStateException("SVD of a [" + n + "][" + d + "] activation matrix did not converge");
        double[] s = svd.getSingularValues();
        DMatrixRMaj v = svd.getV(null, false);
        int m = svd.numberOfSingularValues();
        Integer[] order = IntStream.range(0, m).boxed().sorted(Comparator.comparingDouble((Integer j) -> -s[j]).thenComparingInt(j -> j)).toArray(Integer[]::new);
        double[] c = new double[d * k];
        for (int j = 0; j < k; j++) {
            int col = order[j];
            double sign = signOf(v, col, d);
            for (int i = 0; i < d; i++) c[i * k + j] = sign * s[col] * v.get(i, col);
        }
        return c;
    }

    /** The sign that makes column {@code col}'s largest-magnitude entry positive. */
    static double signOf(DMatrixRMaj v, int col, int d) {
        int best = 0;
        for (int i = 1; i < d; i++) if (Math.abs(v.get(i, col)) > Math.abs(v.get(best, col))) best = i;
        return v.get(best, col) < 0 ? -1 : 1;
    }

    /**
     * Row-wise cosine similarity of the first {@code k} columns of two {@code [d][stride]} matrices:
     * {@code cos_i = a_i . b_i / (|a_i| |b_i|)}, 0 where either row is zero.
     */
    public static double[] rowCosines(double[] a, int strideA, double[] b, int strideB, int d, int k) {
        double[] cos = new double[d];
        for (int i = 0; i < d; i++) {
            double ab = 0, aa = 0, bb = 0;
            for (int j = 0; j < k; j++) {
                double x = a[i * strideA + j], y = b[i * strideB + j];
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
            cos[i] = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
        }
        return cos;
    }

    /** For tests and reports: the singular values of {@code rows}, largest first. */
    public static double[] singularValues(float[] rows, int n, int d) {
        DMatrixRMaj a = new DMatrixRMaj(n, d);
        for (int i = 0; i < rows.length; i++) a.data[i] = rows[i];
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(n, d, false, false, true);
        if (!svd.decompose(a)) throw new IllegalStateException("SVD did not converge");
        double[] s = Arrays.copyOf(svd.getSingularValues(), svd.numberOfSingularValues());
        Arrays.sort(s);
        for (int i = 0; i < s.length / 2; i++) {
            double t = s[i];
            s[i] = s[s.length - 1 - i];
            s[s.length - 1 - i] = t;
        }
        return s;
    }
}
