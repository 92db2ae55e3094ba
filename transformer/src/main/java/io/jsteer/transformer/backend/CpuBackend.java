package io.jsteer.transformer.backend;

import io.jsteer.transformer.kernels.MatMul;
import io.jsteer.transformer.kernels.Parallel;
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
    public void matmuls(int tokens, Product... products) {
        Parallel.Loop[] loops = new Parallel.Loop[products.length];
        for (int i = 0; i < loops.length; i++) loops[i] = MatMul.loop(products[i].w(), products[i].x(), products[i].out(), tokens);
        Parallel.forAll(loops);
    }

    @Override
    public String name() {
        return "cpu";
    }
}
