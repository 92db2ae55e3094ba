/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.backend;

import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.weights.Tensor;

/**
 * Where the heavy linear algebra of a forward pass runs. The CPU backend is the default; other
 * backends (TornadoVM, in the {@code gpu} module) offload the weight products.
 */
public interface Backend {
    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]}: x is {@code [tokens][cols]}, out is
     * {@code [tokens][rows]}, W is {@code [rows][cols]} in its stored dtype.
     */
    void matmul(Tensor w, float[] x, float[] out, int tokens);

    /**
     * As {@link #matmul(Tensor, float[], float[], int)}, where rows {@code [0, promptRows)} of x
     * belong to prompt steps, which the CPU backend sums in the prompt order ({@link
     * io.jsteer.transformer.kernels.MatMul}); by default every row as any other.
     */
    default void matmul(Tensor w, float[] x, float[] out, int tokens, int promptRows) {
        matmul(w, x, out, tokens);
    }

    /** One weight product of {@link #matmuls}: {@code out = x W^T} as in {@link #matmul}. */
    record Product(Tensor w, float[] x, float[] out) {}

    /**
     * Several products that do not read each other's outputs, in any order or at once. The CPU
     * backend hands them out to the cores as one piece of work, so the cores wait for each other
     * once instead of after every matrix. Rows {@code [0, promptRows)} are as in {@link
     * #matmul(Tensor, float[], float[], int, int)}.
     */
    default void matmuls(int tokens, int promptRows, Product... products) {
        for (Product p : products) matmul(p.w(), p.x(), p.out(), tokens, promptRows);
    }

    /**
     * Runs {@code branches} over {@code rows} rows, the first {@code promptRows} of them prompt
     * rows ({@link #matmul(Tensor, float[], float[], int, int)}): branches that read the same
     * input and not each other's outputs (a parallel-residual block's attention and MLP), or a
     * single branch. Each branch's stages run in order; this default runs one branch after the
     * other.
     */
    default void run(int rows, int promptRows, Branch... branches) {
        for (Branch b : branches) {
            matmuls(rows, promptRows, b.projections());
            Parallel.forAll(b.middle());
            matmuls(rows, promptRows, b.output());
        }
    }

    /** Human-readable name for logs and reports. */
    String name();
}
