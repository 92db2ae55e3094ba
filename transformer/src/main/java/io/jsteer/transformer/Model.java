package io.jsteer.transformer;

import io.jsteer.transformer.backend.Backend;
import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.transformer.backend.DeviceBackend;
import io.jsteer.transformer.blocks.Activations;
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
 * The model is immutable and thread-safe; per-sequence data lives in {@link State}.
 */
public final class Model {
    /** Multiply-adds of attention below which handing (token, head) pairs to other cores costs more than it saves. */
    private static final long PARALLEL_ATTENTION_WORK = 1 << 15;
    /** Activations below which the hand-out to other cores costs more than it saves. */
    private static final int ACTIVATION_GRAIN = 1024;
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
        int n = x.length;
        hook(s, l, HookPoint.RESID_PRE, x, T, promptLength);

        float[] h = x.clone();
        w.attnNorm().apply(h, T);
        float[] attnOut = attention(l, w, h, T, s);
        if (w.attnOutNorm() != null) w.attnOutNorm().apply(attnOut, T);
        hook(s, l, HookPoint.ATTN_OUT, attnOut, T, promptLength);

        float[] mlpIn;
        if (config.parallelResidual()) {
            mlpIn = x.clone();
            for (int i = 0; i < n; i++) x[i] += attnOut[i];
        } else {
            for (int i = 0; i < n; i++) x[i] += attnOut[i];
            hook(s, l, HookPoint.RESID_MID, x, T, promptLength);
            mlpIn = x.clone();
        }
        w.mlpNorm().apply(mlpIn, T);
        float[] mlpOut = mlp(w, mlpIn, T);
        if (w.mlpOutNorm() != null) w.mlpOutNorm().apply(mlpOut, T);
        hook(s, l, HookPoint.MLP_OUT, mlpOut, T, promptLength);
        for (int i = 0; i < n; i++) x[i] += mlpOut[i];
        hook(s, l, HookPoint.RESID_POST, x, T, promptLength);
    }

    private void hook(State s, int layer, HookPoint point, float[] x, int T, int promptLength) {
        if (!s.hooks().active(layer, point)) return;
        s.hooks().run(new HookContext(new HookName(layer, point), s.length(), T, config.hiddenSize(), promptLength), x);
    }

    /**
     * Causal multi-head attention with grouped KV heads: {@code softmax(cap(scale * q k^T) + mask) v},
     * then the output projection. Keys and values of the new tokens are appended to the cache.
     * Input {@code h[T][d]}, output {@code [T][d]}.
     */
    private float[] attention(int l, LayerWeights w, float[] h, int T, State s) {
        int H = config.numHeads(), KV = config.numKvHeads(), hd = config.headDim();
        int qW = H * hd, kvW = KV * hd;
        float[] q = new float[T * qW], k = new float[T * kvW], v = new float[T * kvW];
        project(w, h, T, q, k, v);

        int start = s.length();
        float[][] kc = s.keys[l], vc = s.values[l];
        for (int t = 0; t < T; t++) {
            if (w.qNorm() != null) {
                w.qNorm().apply(q, t * qW, H);
                w.kNorm().apply(k, t * kvW, KV);
            }
            int pos = start + t;
            rope[l].apply(q, t * qW, H, hd, pos);
            rope[l].apply(k, t * kvW, KV, hd, pos);
            for (int kvHead = 0; kvHead < KV; kvHead++) {
                System.arraycopy(k, t * kvW + kvHead * hd, kc[pos / State.BLOCK], s.offset(kvHead, pos), hd);
                System.arraycopy(v, t * kvW + kvHead * hd, vc[pos / State.BLOCK], s.offset(kvHead, pos), hd);
            }
        }

        float[] out = new float[T * qW];
        float scale = config.attentionScale(), cap = config.attnSoftcap();
        int window = config.isSliding(l) ? config.slidingWindow() : Integer.MAX_VALUE;
        int group = H / KV;
        // (token, head) pairs are independent: spread them over the cores once there is enough work,
        // in runs of consecutive heads, which share their KV head under grouped-query attention
        long work = (long) T * H * (start + T) * hd;
        int pairs = T * H, threads = Parallel.threads();
        int grain = work < PARALLEL_ATTENTION_WORK ? pairs : T == 1 ? (H + threads - 1) / threads : Math.max(1, pairs / (4 * threads));
        Parallel.forRange(pairs, grain, (from, to) -> {
            for (int pair = from; pair < to; pair++) {
                int t = pair / H, head = pair % H, kvHead = head / group, qo = t * qW + head * hd;
                int pos = start + t, first = Math.max(0, pos - window + 1), n = pos + 1 - first;
                float[] p = new float[n];
                for (int j = first; j <= pos; j++) p[j - first] = Vectors.dot(q, qo, kc[j / State.BLOCK], s.offset(kvHead, j), hd) * scale;
                if (cap > 0) Vectors.softcap(p, 0, n, cap);
                Vectors.softmax(p, 0, n);
                for (int j = first; j <= pos; j++) Vectors.axpy(p[j - first], vc[j / State.BLOCK], s.offset(kvHead, j), out, qo, hd);
            }
        });
        float[] y = new float[T * config.hiddenSize()];
        backend.matmul(w.o(), out, y, T);
        addBias(y, w.oBias(), T);
        return y;
    }

    /** q, k, v projections; GPT-NeoX's fused per-head {@code [q|k|v]} rows are split here. */
    private void project(LayerWeights w, float[] h, int T, float[] q, float[] k, float[] v) {
        if (w.qkv() == null) {
            backend.matmul(w.q(), h, q, T);
            backend.matmul(w.k(), h, k, T);
            backend.matmul(w.v(), h, v, T);
            return;
        }
        int H = config.numHeads(), hd = config.headDim(), d = H * hd;
        float[] qkv = new float[T * 3 * d];
        backend.matmul(w.qkv(), h, qkv, T);
        addBias(qkv, w.qkvBias(), T);
        for (int t = 0; t < T; t++) {
            for (int head = 0; head < H; head++) {
                int src = t * 3 * d + head * 3 * hd, dst = t * d + head * hd;
                System.arraycopy(qkv, src, q, dst, hd);
                System.arraycopy(qkv, src + hd, k, dst, hd);
                System.arraycopy(qkv, src + 2 * hd, v, dst, hd);
            }
        }
    }

    private static float[] slice(float[] a, int from, int len) {
        return java.util.Arrays.copyOfRange(a, from, from + len);
    }

    /**
     * Feed-forward network: {@code down(act(gate(x)) * up(x))} when gated (Gemma), else
     * {@code down(act(up(x)))} (GPT-NeoX). Input and output {@code [T][d]}.
     */
    private float[] mlp(LayerWeights w, float[] x, int T) {
        int ff = config.intermediateSize();
        float[] up = new float[T * ff];
        backend.matmul(w.up(), x, up, T);
        addBias(up, w.upBias(), T);
        if (w.gate() != null) {
            float[] gate = new float[T * ff];
            backend.matmul(w.gate(), x, gate, T);
            activate(gate);
            for (int i = 0; i < up.length; i++) up[i] *= gate[i];
        } else {
            activate(up);
        }
        float[] y = new float[T * config.hiddenSize()];
        backend.matmul(w.down(), up, y, T);
        addBias(y, w.downBias(), T);
        return y;
    }

    /** The MLP activation over all cores: even vectorised it is worth spreading once there are a few thousand values. */
    private void activate(float[] x) {
        int n = x.length;
        Parallel.forRange(n, Math.max(ACTIVATION_GRAIN, (n + Parallel.threads() - 1) / Parallel.threads()),
                (from, to) -> Activations.apply(config.activation(), x, from, to));
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

    private static void addBias(float[] y, float[] bias, int T) {
        if (bias == null) return;
        int n = bias.length;
        for (int t = 0; t < T; t++) for (int i = 0; i < n; i++) y[t * n + i] += bias[i];
    }
}
