package io.jsteer.transformer;

import io.jsteer.transformer.backend.Backend;
import io.jsteer.transformer.backend.Backend.Product;
import io.jsteer.transformer.blocks.Activations;
import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.weights.ModelConfig;

/**
 * The feed-forward network of one layer over one forward call's tokens:
 * {@code down(act(gate(x)) * up(x))} when gated (Gemma), else {@code down(act(up(x)))}
 * (GPT-NeoX), each projection with its bias where the checkpoint has one.
 *
 * <p>It runs in three stages ({@link #run} in order), so {@link Model} can put each beside the
 * same stage of an attention that does not depend on it: the {@link #projections}, the {@link
 * #activation} and the {@link #output} projection.
 */
final class Mlp {
    /** Activations below which the hand-out to other cores costs more than it saves. */
    private static final int ACTIVATION_GRAIN = 1024;
    private final ModelConfig config;
    private final LayerWeights w;
    private final int T;
    /** {@code [T][intermediate]}; after the activation, the input of the down projection. Allocated by the stage that fills it, as in {@link Attention}. */
    private float[] up;
    /** {@code [T][intermediate]} until the activation, null for a plain MLP. */
    private float[] gate;
    /** {@code [T][d]}. */
    private float[] out;

    Mlp(ModelConfig config, LayerWeights w, int T) {
        this.config = config;
        this.w = w;
        this.T = T;
    }

    /** All three stages on their own for the normed input {@code x[T][d]}; returns the output {@code [T][d]}. */
    float[] run(Backend backend, float[] x) {
        backend.matmuls(T, projections(x));
        Parallel.forAll(activation());
        backend.matmuls(T, output());
        return result();
    }

    /** The up (and gate) projections of {@code x[T][d]}. */
    Product[] projections(float[] x) {
        up = new float[T * config.intermediateSize()];
        if (w.gate() == null) return new Product[] {new Product(w.up(), x, up)};
        gate = new float[up.length];
        return new Product[] {new Product(w.gate(), x, gate), new Product(w.up(), x, up)};
    }

    /**
     * After the projections: {@code up = act(gate) * (up + bias)}, or {@code act(up + bias)}, as a loop
     * over the values; even vectorised it is worth spreading once there are a few thousand.
     */
    Parallel.Loop activation() {
        float[] up = this.up, gate = this.gate;
        this.gate = null;
        int n = up.length;
        return new Parallel.Loop(n, Math.max(ACTIVATION_GRAIN, (n + Parallel.threads() - 1) / Parallel.threads()), (from, to) -> {
            Model.addBias(up, w.upBias(), from, to);
            if (gate == null) {
                Activations.apply(config.activation(), up, from, to);
            } else {
                Activations.apply(config.activation(), gate, from, to);
                for (int i = from; i < to; i++) up[i] *= gate[i];
            }
        });
    }

    /** After the activation: the down projection. */
    Product output() {
        out = new float[T * config.hiddenSize()];
        Product down = new Product(w.down(), up, out);
        up = null;
        return down;
    }

    /** After the down projection: the MLP output {@code [T][d]}, bias added. */
    float[] result() {
        Model.addBias(out, w.downBias(), T);
        return out;
    }
}
