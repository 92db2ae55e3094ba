/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.backend.Branch;
import io.jsteer.transformer.backend.Backend.Product;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.transformer.kernels.Parallel;
import io.jsteer.transformer.kernels.Vectors;
import io.jsteer.weights.ModelConfig;

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

    /** Splits GPT-NeoX's fused rows or adds q/k/v biases (Qwen 2), norms queries and keys (Gemma 3, Qwen 3), rotates them, appends k and v to each row's sequence's cache. */
    private void cache() {
        if (qkv != null) {
            split();
        } else {
            Model.addBias(q, w.qBias(), T);
            Model.addBias(k, w.kBias(), T);
            Model.addBias(v, w.vBias(), T);
        }
        int H = config.numHeads(), KV = config.numKvHeads(), hd = config.headDim();
        for (int t = 0; t < T; t++) {
            State s = b.state(b.sequenceOf(t));
            float[][] kc = s.keys[layer], vc = s.values[layer];
            if (w.qNorm() != null) {
                w.qNorm().apply(q, t * qW, H);
                w.kNorm().apply(k, t * kvW, KV);
            }
            int pos = b.positionOf(t);
            rope.apply(q, t * qW, H, hd, pos);
            rope.apply(k, t * kvW, KV, hd, pos);
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

    /** After {@link #cache}: each (row, head) pair's softmax-weighted sum of its sequence's cached values, as a loop over the pairs. */
    private Parallel.Loop heads() {
        int H = config.numHeads(), hd = config.headDim(), group = H / config.numKvHeads();
        float scale = config.attentionScale(), cap = config.attnSoftcap();
        int window = config.isSliding(layer) ? config.slidingWindow() : Integer.MAX_VALUE;
        // spread over the cores once there is enough work, in runs of consecutive heads, which
        // share their KV head under grouped-query attention
        long work = 0;
        for (int t = 0; t < T; t++) work += (long) H * (b.positionOf(t) + 1) * hd;
        int pairs = T * H, threads = Parallel.threads();
        int grain = work < PARALLEL_WORK ? pairs : T == 1 ? (H + threads - 1) / threads : Math.max(1, pairs / (4 * threads));
        float[] q = this.q, mixed = this.mixed = new float[T * qW];
        this.q = null;
        return new Parallel.Loop(pairs, grain, (from, to) -> {
            for (int pair = from; pair < to; pair++) {
                int t = pair / H, head = pair % H, kvHead = head / group, qo = t * qW + head * hd;
                State s = b.state(b.sequenceOf(t));
                float[][] kc = s.keys[layer], vc = s.values[layer];
                int pos = b.positionOf(t), first = Math.max(0, pos - window + 1), n = pos + 1 - first;
                float[] p = new float[n];
                for (int j = first; j <= pos; j++) p[j - first] = Vectors.dot(q, qo, kc[j / State.BLOCK], s.offset(kvHead, j), hd) * scale;
                if (cap > 0) Vectors.softcap(p, 0, n, cap);
                Vectors.softmax(p, 0, n);
                for (int j = first; j <= pos; j++) Vectors.axpy(p[j - first], vc[j / State.BLOCK], s.offset(kvHead, j), mixed, qo, hd);
            }
        });
    }

    /** After the heads: the output projection. */
    @Override
    public Product output() {
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
