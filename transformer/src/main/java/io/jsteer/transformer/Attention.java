/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.backend.Branch;
import io.jsteer.transformer.backend.Backend.Product;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.transformer.kernels.Vectors;
import io.jsteer.weights.ModelConfig;
import java.util.Arrays;

/**
 * Causal multi-head attention of one layer over one forward call's rows, with grouped KV heads:
 * {@code o(softmax(cap(scale * q k^T) + mask) v)}. The rows may belong to several sequences
 * ({@link Batch}); each row attends only to its own sequence's cache, up to its own position,
 * and the keys and values of the new rows are appended to their sequence's cache.
 *
 * <p>As a {@link Branch} it runs in three stages, so a backend can put each beside the same stage
 * of an MLP that does not depend on it: the q/k/v {@link #projections}, the {@link #middle}
 * (RoPE and the KV cache, then every (row, head) pair's softmax-weighted sum of values) and the
 * {@link #output} projection.
 */
final class Attention implements Branch {
    /** Multiply-adds of attention below which handing (token, head) pairs to other cores costs more than it saves. */
    private static final long PARALLEL_WORK = 1 << 15;
    private final ModelConfig config;
    private final LayerWeights w;
    private final Rope rope;
    private final Batch b;
    private final int layer, T, qW, kvW;
    /*
     * Each activation is allocated by the stage that fills it and dropped by the one that
     * consumes it, so a layer's live set fits the young generation's survivor space: what a young
     * collection finds alive past that is promoted to the old generation, which a decoding JVM
     * rarely collects (see cli/jvm.options). With a layer's activations all alive for the whole
     * layer, a 64-token prefill promoted about 30 MB of them: Pythia-160M BF16 peaked at 1.19 x
     * (file + KV cache) instead of 1.10.
     */
    /** Normed input {@code [T][d]} until projected. */
    private float[] h;
    /** {@code [T][3 d]}, GPT-NeoX's fused per-head {@code [q|k|v]} rows, until split. */
    private float[] qkv;
    /** {@code q[T][heads * headDim]} until the heads are handed out; {@code k, v[T][kvHeads * headDim]} until cached. */
    private float[] q, k, v;
    /** Attention-weighted values of every head, {@code [T][heads * headDim]}, until projected. */
    private float[] mixed;
    /** Output projection, {@code [T][d]}. */
    private float[] out;

    /** Attention of {@code layer} over the normed input {@code h[rows][d]} of the batch {@code b}. */
    Attention(ModelConfig config, LayerWeights w, Rope rope, Batch b, int layer, float[] h) {
        this.config = config;
        this.w = w;
        this.rope = rope;
        this.b = b;
        this.layer = layer;
        this.T = b.rows;
        this.h = h;
        this.qW = config.numHeads() * config.headDim();
        this.kvW = config.numKvHeads() * config.headDim();
    }

    /** The q, k, v projections of the input (one fused product for GPT-NeoX). */
    @Override
    public Product[] projections() {
        float[] h = this.h;
        this.h = null;
        if (w.qkv() != null) {
            qkv = new float[T * 3 * qW];
            return new Product[] {new Product(w.qkv(), h, qkv)};
        }
        q = new float[T * qW];
        k = new float[T * kvW];
        v = new float[T * kvW];
        return new Product[] {new Product(w.q(), h, q), new Product(w.k(), h, k), new Product(w.v(), h, v)};
    }

    /** After the projections: the KV cache filled ({@link #cache}), then the {@link #heads}. */
    @Override
    public Parallel.Loop middle() {
        cache();
        return heads();
    }

    /**
     * Splits GPT-NeoX's fused rows or adds q/k/v biases (Qwen 2), norms queries and keys (Gemma 3,
     * Qwen 3), rotates them, appends k and v to each row's sequence's cache; with the hooks
     * {@code hook_q/k/v} on the projections and {@code hook_rot_q/k} on what the scores use.
     */
    private void cache() {
        if (qkv != null) {
            split();
        } else {
            Model.addBias(q, w.qBias(), T);
            Model.addBias(k, w.kBias(), T);
            Model.addBias(v, w.vBias(), T);
        }
        int H = config.numHeads(), KV = config.numKvHeads(), hd = config.headDim();
        b.hook(layer, HookPoint.Q, q, qW, H);
        b.hook(layer, HookPoint.K, k, kvW, KV);
        b.hook(layer, HookPoint.V, v, kvW, KV);
        for (int t = 0; t < T; t++) {
            if (w.qNorm() != null) {
                w.qNorm().apply(q, t * qW, H);
                w.kNorm().apply(k, t * kvW, KV);
            }
            int pos = b.positionOf(t);
            rope.apply(q, t * qW, H, hd, pos);
            rope.apply(k, t * kvW, KV, hd, pos);
        }
        b.hook(layer, HookPoint.ROT_Q, q, qW, H);
        b.hook(layer, HookPoint.ROT_K, k, kvW, KV);
        for (int t = 0; t < T; t++) {
            State s = b.state(b.sequenceOf(t));
            float[][] kc = s.keys[layer], vc = s.values[layer];
            int pos = b.positionOf(t);
            for (int kvHead = 0; kvHead < KV; kvHead++) {
                System.arraycopy(k, t * kvW + kvHead * hd, kc[pos / State.BLOCK], s.offset(kvHead, pos), hd);
                System.arraycopy(v, t * kvW + kvHead * hd, vc[pos / State.BLOCK], s.offset(kvHead, pos), hd);
            }
        }
        k = v = null;
    }

    /** GPT-NeoX's {@code [head][q|k|v][headDim]} rows, plus their bias, into q, k and v. */
    private void split() {
        Model.addBias(qkv, w.qkvBias(), T);
        int H = config.numHeads(), hd = config.headDim();
        q = new float[T * qW];
        k = new float[T * qW];
        v = new float[T * qW];
        for (int t = 0; t < T; t++) {
            for (int head = 0; head < H; head++) {
                int src = t * 3 * qW + head * 3 * hd, dst = t * qW + head * hd;
                System.arraycopy(qkv, src, q, dst, hd);
                System.arraycopy(qkv, src + hd, k, dst, hd);
                System.arraycopy(qkv, src + 2 * hd, v, dst, hd);
            }
        }
        qkv = null;
    }

    /**
     * After {@link #cache}: each (row, head) pair's softmax-weighted sum of its sequence's cached
     * values, into {@code mixed}. The sequences with a hook on the scores or the pattern are
     * {@link #attendHooked attended} here, on the caller's thread; the others' pairs are
     * returned as a loop.
     */
    private Parallel.Loop heads() {
        int H = config.numHeads(), hd = config.headDim();
        float[] q = this.q, mixed = this.mixed = new float[T * qW];
        this.q = null;
        boolean[] attended = null;
        for (int s = 0; s < b.sequences(); s++) {
            if (b.active(s, layer, HookPoint.ATTN_SCORES) || b.active(s, layer, HookPoint.PATTERN)) {
                attendHooked(s, q, mixed);
                if (attended == null) attended = new boolean[b.sequences()];
                attended[s] = true;
            }
        }
        boolean[] skip = attended;
        // spread over the cores once there is enough work, in runs of consecutive heads, which
        // share their KV head under grouped-query attention
        long work = 0;
        for (int t = 0; t < T; t++) work += (long) H * (b.positionOf(t) + 1) * hd;
        int pairs = T * H, threads = Parallel.threads();
        int grain = work < PARALLEL_WORK ? pairs : T == 1 ? (H + threads - 1) / threads : Math.max(1, pairs / (4 * threads));
        return new Parallel.Loop(pairs, grain, (from, to) -> {
            for (int pair = from; pair < to; pair++) {
                int t = pair / H, head = pair % H;
                if (skip != null && skip[b.sequenceOf(t)]) continue;
                int pos = b.positionOf(t), first = firstKey(pos), n = pos + 1 - first;
                float[] p = new float[n];
                scores(q, t, head, first, p);
                Vectors.softmax(p, 0, n);
                mix(p, 0, t, head, first, pos, mixed);
            }
        });
    }

    /** The first key a query at {@code pos} sees: 0, or the start of its sliding window. */
    private int firstKey(int pos) {
        return config.isSliding(layer) ? Math.max(0, pos - config.slidingWindow() + 1) : 0;
    }

    /** {@code p[j - first] = cap(scale * q_t . k_j)} for the keys {@code j = first .. pos} of row {@code t}'s sequence, head {@code head}. */
    private void scores(float[] q, int t, int head, int first, float[] p) {
        int hd = config.headDim(), kvHead = head / (config.numHeads() / config.numKvHeads()), pos = b.positionOf(t);
        State s = b.state(b.sequenceOf(t));
        float[][] kc = s.keys[layer];
        float scale = config.attentionScale(), cap = config.attnSoftcap();
        for (int j = first; j <= pos; j++) p[j - first] = Vectors.dot(q, t * qW + head * hd, kc[j / State.BLOCK], s.offset(kvHead, j), hd) * scale;
        if (cap > 0) Vectors.softcap(p, 0, pos + 1 - first, cap);
    }

    /** {@code mixed[t][head] += p[off + j - from] v_j} for the keys {@code j = from .. to} whose weight is not 0. */
    private void mix(float[] p, int off, int t, int head, int from, int to, float[] mixed) {
        int hd = config.headDim(), kvHead = head / (config.numHeads() / config.numKvHeads());
        State s = b.state(b.sequenceOf(t));
        float[][] vc = s.values[layer];
        for (int j = from; j <= to; j++) {
            float weight = p[off + j - from];
            if (weight != 0) Vectors.axpy(weight, vc[j / State.BLOCK], s.offset(kvHead, j), mixed, t * qW + head * hd, hd);
        }
    }

    /**
     * Attention of sequence {@code s} in TransformerLens' steps, each shown to its hooks:
     * {@code hook_attn_scores} ({@code [head][query][key]} over every key of the sequence so far,
     * {@code -inf} where the mask hides one), the softmax of each row over its keys that are not
     * {@code -inf}, {@code hook_pattern}, then the pattern-weighted sum of values. Unchanged by
     * its hooks, every number equals the unhooked path's.
     */
    private void attendHooked(int s, float[] q, float[] mixed) {
        int H = config.numHeads(), rows = b.rowCount(s), row0 = b.firstRow(s), keys = b.state(s).length() + rows;
        float[] x = new float[H * rows * keys];
        Arrays.fill(x, Float.NEGATIVE_INFINITY);
        for (int head = 0; head < H; head++) {
            for (int r = 0; r < rows; r++) {
                int t = row0 + r, pos = b.positionOf(t), first = firstKey(pos);
                float[] p = new float[pos + 1 - first];
                scores(q, t, head, first, p);
                System.arraycopy(p, 0, x, (head * rows + r) * keys + first, p.length);
            }
        }
        runHooks(s, HookPoint.ATTN_SCORES, x, keys);
        for (int row = 0; row < H * rows; row++) {
            int lo = row * keys, hi = lo + keys;
            while (lo < hi && x[lo] == Float.NEGATIVE_INFINITY) lo++;
            while (hi > lo && x[hi - 1] == Float.NEGATIVE_INFINITY) hi--;
            float[] p = Arrays.copyOfRange(x, lo, hi);
            boolean[] hidden = new boolean[p.length];
            for (int j = 0; j < p.length; j++) hidden[j] = p[j] == Float.NEGATIVE_INFINITY;
            Vectors.softmax(p, 0, p.length);
            for (int j = 0; j < p.length; j++) if (hidden[j]) p[j] = 0;
            Arrays.fill(x, row * keys, (row + 1) * keys, 0f);
            System.arraycopy(p, 0, x, lo, p.length);
        }
        runHooks(s, HookPoint.PATTERN, x, keys);
        for (int head = 0; head < H; head++) {
            for (int r = 0; r < rows; r++) mix(x, (head * rows + r) * keys, row0 + r, head, 0, keys - 1, mixed);
        }
    }

    /** Runs sequence {@code s}'s hooks at a {@code [head][query][key]} point over its own array. */
    private void runHooks(int s, HookPoint point, float[] x, int keys) {
        if (b.active(s, layer, point)) b.run(s, b.context(s, new HookName(layer, point), keys, config.numHeads()), x);
    }

    /** After the heads: the output projection. */
    @Override
    public Product output() {
        b.hook(layer, HookPoint.Z, mixed, qW, config.numHeads());
        out = new float[T * config.hiddenSize()];
        Product o = new Product(w.o(), mixed, out);
        mixed = null;
        return o;
    }

    /** After the output projection: the attention output {@code [T][d]}, bias added. */
    @Override
    public float[] result() {
        Model.addBias(out, w.oBias(), T);
        return out;
    }
}
