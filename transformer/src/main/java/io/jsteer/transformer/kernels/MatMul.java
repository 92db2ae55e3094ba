package io.jsteer.transformer.kernels;

import io.jsteer.weights.Tensor;

/**
 * Dense products against a weight matrix stored row-major as {@code W[rows][cols]} (the layout
 * of a Hugging Face {@code nn.Linear} weight, {@code [out_features][in_features]}), read in its
 * stored dtype straight from the mapped file.
 */
public final class MatMul {
    private MatMul() {}

    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens}: x is {@code [tokens][cols]},
     * out is {@code [tokens][rows]}, both row-major.
     */
    public static void matmul(Tensor w, float[] x, float[] out, int tokens) {
        int rows = w.dim(0), cols = w.dim(1);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.read((long) r * cols, row);
            for (int t = 0; t < tokens; t++) {
                float acc = 0;
                int xo = t * cols;
                for (int c = 0; c < cols; c++) acc += row[c] * x[xo + c];
                out[t * rows + r] = acc;
            }
        }
    }
}
