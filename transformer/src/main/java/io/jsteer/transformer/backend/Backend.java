package io.jsteer.transformer.backend;

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

    /** Human-readable name for logs and reports. */
    String name();
}
