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
    public void matmul(Tensor w, float[] x, float[] out, int tokens, int promptRows) {
        MatMul.matmul(w, x, out, tokens, promptRows);
    }

    @Override
    public void matmuls(int tokens, int promptRows, Product... products) {
        List<MatMul.Work> works = new ArrayList<>(products.length);
        List<Parallel.Loop> loops = new ArrayList<>();
        for (Product p : products) {
            MatMul.Work work = MatMul.work(p.w(), p.x(), p.out(), tokens, promptRows);
            works.add(work);
            loops.addAll(List.of(work.loops()));
        }
        Parallel.forAll(loops.toArray(Parallel.Loop[]::new));
        for (MatMul.Work work : works) work.finishUp();
    }

    /**
     * Runs the same stage of every branch as one hand-out of work, so with a parallel residual the
     * cores wait for each other three times a layer instead of six.
     */
    @Override
    public void run(int rows, int promptRows, Branch... branches) {
        List<Product> projections = new ArrayList<>();
        for (Branch b : branches) projections.addAll(List.of(b.projections()));
        matmuls(rows, promptRows, projections.toArray(Product[]::new));
        Parallel.Loop[] middles = new Parallel.Loop[branches.length];
        for (int i = 0; i < branches.length; i++) middles[i] = branches[i].middle();
        Parallel.forAll(middles);
        Product[] outputs = new Product[branches.length];
        for (int i = 0; i < branches.length; i++) outputs[i] = branches[i].output();
        matmuls(rows, promptRows, outputs);
    }

    @Override
    public String name() {
        return "cpu";
    }
}
