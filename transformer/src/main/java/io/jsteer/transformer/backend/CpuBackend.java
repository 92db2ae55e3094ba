/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.backend;

import io.jsteer.transformer.kernels.MatMul;
import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.weights.Tensor;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * Runs the same stage of every branch as one hand-out of work, so with a parallel residual the
     * cores wait for each other three times a layer instead of six.
     */
    @Override
    public void run(int rows, Branch... branches) {
        List<Product> projections = new ArrayList<>();
        for (Branch b : branches) projections.addAll(List.of(b.projections()));
        matmuls(rows, projections.toArray(Product[]::new));
        Parallel.Loop[] middles = new Parallel.Loop[branches.length];
        for (int i = 0; i < branches.length; i++) middles[i] = branches[i].middle();
        Parallel.forAll(middles);
        Product[] outputs = new Product[branches.length];
        for (int i = 0; i < branches.length; i++) outputs[i] = branches[i].output();
        matmuls(rows, outputs);
    }

    @Override
    public String name() {
        return "cpu";
    }
}
