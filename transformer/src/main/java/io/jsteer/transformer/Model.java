package io.jsteer.transformer;

import io.jsteer.transformer.backend.Backend;
import io.jsteer.transformer.backend.Backend.Product;
import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.transformer.backend.DeviceBackend;
import io.jsteer.transformer.blocks.Norm;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.transformer.kernels.Vectors;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.ModelConfig;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A decoder-only transformer (GPT-NeoX / Pythia, Gemma, Gemma 2, Gemma 3 text) over
 * memory-mapped weights, computing in float32.
 *
 * <p>Every block is the same code: the families differ only in which optional parts exist
 * (see {@link LayerWeights}) and in config flags. One block, in the families' own words:
 * <pre>
 *   resid_pre = x
 *   attn_out  = [attnOutNorm] attention(attnNorm(x))
 *   parallel (GPT-NeoX default): x = x + attn_out + mlp(mlpNorm(resid_pre))
 *   sequential:                  x = x + attn_out = resid_mid;  x = x + [mlpOutNorm] mlp(mlpNorm(x))
 *   resid_post = x
 * </pre>
 * Hooks at each named point (see {@link HookPoint}) may read and change these activations.
 * The two branches are {@link Attention} and {@link Mlp}, each run in stages (projections, the
 * middle, the output projection) so that with a parallel residual each stage of one shares its
 * parallel loop with the same stage of the other.
 * The model is immutable and thread-safe; per-sequence data lives in {@link State}.
 */
public final class Model {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Backend backend;
    private final Rope[] rope;
    private final float embedScale;

    public Model(ModelConfig config, ModelWeights weights, Backend backend) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.rope = new Rope[config.numLayers()];
        for (int l = 0; l < rope.length; l++) rope[l] = new Rope(config.rotaryDims(), config.ropeBase(l), config.ropeScaling(l));
        // Gemma scales embeddings by sqrt(hidden), rounded to float32 as HF does
        this.embedScale = config.architecture() == Architecture.GPT_NEOX ? 1f : (float) Math.sqrt(config.hiddenSize());
    }

    /** Loads a Hugging Face checkpoint directory on the CPU backend. The checkpoint stays mapped for the model's life. */
    public static Model load(Path dir) {
        return load(dir, CpuBackend.INSTANCE);
    }

    /** Loads a Hugging Face checkpoint directory on the given backend. */
    public static Model load(Path dir, Backend backend) {
        Checkpoint cp = Checkpoint.open(dir);
        return new Model(cp.config(), ModelWeights.load(cp.config(), cp.weights()), backend);
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public Backend backend() {
        return backend;
    }

    /** A fresh sequence with an empty KV cache and no hooks. */
    public State newState() {
        return new State(config.numLayers(), config.numKvHeads(), config.headDim(), config.maxPositions(), !config.parallelResidual());
    }

    /**
     * Appends {@code tokens} to the sequence and returns logits: {@code [tokens][vocab]} when
     * {@code allLogits}, else only the last position's {@code [vocab]}.
     */
    public float[] forward(State s, int[] tokens, boolean allLogits) {
        int T = tokens.length;
        if (T == 0) throw new IllegalArgumentException("no tokens to process");
        for (int id : tokens) {
            if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
        }
        if (backend instanceof DeviceBackend device) {
            s.checkRoom(T);
            float[] logits = device.forward(this, s, tokens, allLogits);
            s.advance(T);
            return logits;
        }
        s.reserve(T);
        int promptLength = s.promptLength() < 0 ? T : s.promptLength();
        float[] x = embed(tokens);
        for (int l = 0; l < config.numLayers(); l++) block(l, x, T, s, promptLength);
        s.advance(T);
        return unembed(x, T, allLogits);
    }

    /** Token embeddings, {@code x[T][d]}. */
    private float[] embed(int[] tokens) {
        int d = config.hiddenSize();
        float[] x = new float[tokens.length * d];
        float[] row = new float[d];
        for (int t = 0; t < tokens.length; t++) {
            weights.embed().read((long) tokens[t] * d, row);
            for (int i = 0; i < d; i++) x[t * d + i] = row[i] * embedScale;
        }
        return x;
    }

    /** One transformer block, updating the residual stream {@code x[T][d]} in place. */
    private void block(int l, float[] x, int T, State s, int promptLength) {
        LayerWeights w = weights.layers()[l];
        hook(s, l, HookPoint.RESID_PRE, x, T, promptLength);

        Attention attention = new Attention(config, w, rope[l], s, l, T);
        Mlp mlp = new Mlp(config, w, T);
        float[] attnOut, mlpOut = null;
        if (config.parallelResidual()) {
            // the branches read resid_pre and not each other: each stage of one shares its
            // hand-out of work with the same stage of the other, so the cores wait for each
            // other three times a layer instead of six
            backend.matmuls(T, concat(attention.projections(normed(x, w.attnNorm(), T)), mlp.projections(normed(x, w.mlpNorm(), T))));
            attention.cache();
            Parallel.forAll(attention.heads(), mlp.activation());
            backend.matmuls(T, attention.output(), mlp.output());
            attnOut = attention.result();
            mlpOut = mlp.result();
        } else {
            attnOut = attention.run(backend, normed(x, w.attnNorm(), T));
        }
        if (w.attnOutNorm() != null) w.attnOutNorm().apply(attnOut, T);
        hook(s, l, HookPoint.ATTN_OUT, attnOut, T, promptLength);
        add(x, attnOut);

        if (!config.parallelResidual()) {
            hook(s, l, HookPoint.RESID_MID, x, T, promptLength);
            mlpOut = mlp.run(backend, normed(x, w.mlpNorm(), T));
        }
        if (w.mlpOutNorm() != null) w.mlpOutNorm().apply(mlpOut, T);
        hook(s, l, HookPoint.MLP_OUT, mlpOut, T, promptLength);
        add(x, mlpOut);
        hook(s, l, HookPoint.RESID_POST, x, T, promptLength);
    }

    private void hook(State s, int layer, HookPoint point, float[] x, int T, int promptLength) {
        if (!s.hooks().active(layer, point)) return;
        s.hooks().run(new HookContext(new HookName(layer, point), s.length(), T, config.hiddenSize(), promptLength), x);
    }

    /** A normed copy of {@code x[T][d]}. */
    private static float[] normed(float[] x, Norm norm, int T) {
        float[] h = x.clone();
        norm.apply(h, T);
        return h;
    }

    /** {@code x += y}, element by element. */
    private static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private static Product[] concat(Product[] a, Product[] b) {
        Product[] ab = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, ab, a.length, b.length);
        return ab;
    }

    private static float[] slice(float[] a, int from, int len) {
        return Arrays.copyOfRange(a, from, from + len);
    }

    /** Final norm, then the unembedding (with Gemma 2's final soft-cap). */
    private float[] unembed(float[] x, int T, boolean allLogits) {
        int d = config.hiddenSize(), V = config.vocabSize();
        int rows = allLogits ? T : 1;
        float[] h = allLogits ? x : slice(x, (T - 1) * d, d);
        weights.finalNorm().apply(h, rows);
        float[] logits = new float[rows * V];
        backend.matmul(weights.lmHead(), h, logits, rows);
        float cap = config.finalSoftcap();
        if (cap > 0) Vectors.softcap(logits, 0, logits.length, cap);
        return logits;
    }

    /** Adds {@code bias[n]} to every row of {@code y[T][n]}; nothing when there is no bias. */
    static void addBias(float[] y, float[] bias, int T) {
        if (bias != null) addBias(y, bias, 0, T * bias.length);
    }

    /** As {@link #addBias(float[], float[], int)} over the flat range {@code y[from..to)} only. */
    static void addBias(float[] y, float[] bias, int from, int to) {
        if (bias == null) return;
        int n = bias.length;
        for (int i = from; i < to; ) {
            int c = i % n, run = Math.min(n - c, to - i);
            for (int j = 0; j < run; j++) y[i + j] += bias[c + j];
            i += run;
        }
    }
}
