package io.jsteer.transformer.backend;

import io.jsteer.transformer.kernels.MatMul;
import io.jsteer.weights.Tensor;

/** The pure-Java backend: Vector API kernels over the mapped weights. */
public final class CpuBackend implements Backend {
    /** The shared instance; the kernels keep no per-instance state. */
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public void matmul(Tensor w, float[] x, float[] out, int tokens) {
        MatMul.matmul(w, x, out, tokens);
    }

    @Override
    public String name() {
        return "cpu";
    }
}
