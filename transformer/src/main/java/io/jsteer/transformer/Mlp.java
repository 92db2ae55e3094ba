/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.backend.Branch;
import io.jsteer.transformer.backend.Backend.Product;
import io.jsteer.transformer.blocks.Activations;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.weights.ModelConfig;

/**
 * The feed-forward network of one layer over one forward call's rows:
 * {@code down(act(gate(x)) * up(x))} when gated (Gemma, Llama), else {@code down(act(up(x)))}
 * (GPT-NeoX), each projection with its bias where the checkpoint has one.
 *
 * <p>As a {@link Branch} it runs in three stages, so a backend can put each beside the same stage
 * of an attention that does not depend on it: the {@link #projections}, the activation ({@link
 * #middle}) and the {@link #output} projection.
 */
final class Mlp implements Branch {
    /** Activations below which the hand-out to other cores costs more than it saves. */
    private static final int ACTIVATION_GRAIN = 1024;
    private final ModelConfig config;
    private final LayerWeights w;
    private final Batch b;
    private final int layer, T;
    /** Normed input {@code [T][d]} until projected. */
    private float[] x;
    /** {@code [T][intermediate]}; after the activation, the input of the down projection. Allocated by the stage that fills it, as in {@link Attention}. */
    private float[] up;
    /** {@code [T][intermediate]} until the activation, null for a plain MLP. */
    private float[] gate;
    /** {@code [T][d]}. */
    private float[] out;

    /** The MLP of {@code layer} over the normed input {@code x[rows][d]} of the batch {@code b}. */
    Mlp(ModelConfig config, LayerWeights w, Batch b, int layer, float[] x) {
        this.config = config;
        this.w = w;
        this.b = b;
        this.layer = layer;
        this.T = b.rows;
        this.x = x;
    }

    /** The up (and gate) projections of the input. */
    @Override
    public Product[] projections() {
        float[] x = this.x;
        this.x = null;
        up = new float[T * config.intermediateSize()];
        if (w.gate() == null) return new Product[] {new Product(w.up(), x, up)};
        gate = new float[up.length];
        return new Product[] {new Product(w.gate(), x, gate), new Product(w.up(), x, up)};
    }

    /**
     * After the projections: {@code up = act(gate + bias) * (up + bias)}, or {@code act(up + bias)}, as a loop
     * over the values; even vectorised it is worth spreading once there are a few thousand. With a
     * hook on {@code mlp.hook_pre} (or {@code hook_pre_linear}) the biases are added first, here, and
     * the hooks shown the sums.
     */
    @Override
    public Parallel.Loop middle() {
        float[] up = this.up, gate = this.gate;
        this.gate = null;
        int n = up.length, width = config.intermediateSize();
        boolean hooked = b.active(layer, HookPoint.MLP_PRE) || b.active(layer, HookPoint.MLP_PRE_LINEAR);
        if (hooked) {
            Model.addBias(up, w.upBias(), T);
            Model.addBias(gate, w.gateBias(), T);
            b.hook(layer, HookPoint.MLP_PRE, gate == null ? up : gate, width);
            if (gate != null) b.hook(layer, HookPoint.MLP_PRE_LINEAR, up, width);
        }
        return new Parallel.Loop(n, Math.max(ACTIVATION_GRAIN, (n + Parallel.threads() - 1) / Parallel.threads()), (from, to) -> {
            if (!hooked) Model.addBias(up, w.upBias(), from, to);
            if (gate == null) {
                Activations.apply(config.activation(), up, from, to);
            } else {
                if (!hooked) Model.addBias(gate, w.gateBias(), from, to);
                Activations.apply(config.activation(), gate, from, to);
                for (int i = from; i < to; i++) up[i] *= gate[i];
            }
        });
    }

    /** After the activation: the down projection. */
    @Override
    public Product output() {
        b.hook(layer, HookPoint.MLP_POST, up, config.intermediateSize());
        out = new float[T * config.hiddenSize()];
        Product down = new Product(w.down(), up, out);
        up = null;
        return down;
    }

    /** After the down projection: the MLP output {@code [T][d]}, bias added. */
    @Override
    public float[] result() {
        Model.addBias(out, w.downBias(), T);
        return out;
    }
}
