/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * TornadoVM kernels for one token's pass through a transformer, mirroring
 * {@link io.jsteer.transformer.Model} step by step.
 *
 * <p>The kernels of a model live in its task graphs, one per block (see {@link DeviceModel}). Each belongs to a
 * <em>segment</em>, the work between two hook points, and does nothing unless its segment lies in
 * {@code [control[FROM], control[TO])}: executing the graph with a range runs the forward pass up to
 * a hook point, and a second execution resumes after it. {@link #inject} writes the host's hooked
 * activation back at that point. Every work-group takes the same branch, so returning early never
 * splits a barrier.
 *
 * <p>Two rules keep the kernels clear of bugs met in TornadoVM and PoCL (gpu/README.md, "PoCL on
 * several threads"): a local array is allocated in the method that indexes it, never passed to
 * another; and after a barrier, a loop over a thread's share of the elements runs the same number
 * of times in every thread ({@code for (base = 0; base < n; base += GROUP)}), with the bound
 * checked inside ({@code if (base + lid < n)}), not {@code for (i = lid; i < n; i += GROUP)}: PoCL
 * 3.1 let the threads whose first {@code i} is already past {@code n} run such a loop's body.
 */
final class ForwardKernels {
    /** Threads per work-group of the reducing kernels, a power of two. */
    static final int GROUP = MatMulKernels.GROUP_SIZE;
    /** Indices into the control array. */
    static final int FROM = 0, TO = 1, INJECT = 2, TOKEN = 3, POS = 4, SLOT = 5, CONTROL_SIZE = 6;
    /** Values of the {@code act} argument. */
    static final int GELU_ERF = 0, GELU_TANH = 1, SILU = 2;

    private ForwardKernels() {}

    private static boolean skip(IntArray control, int segment) {
        return segment < control.get(FROM) || segment >= control.get(TO);
    }

    /** {@code x = table[token] * scale}. */
    static void embed(KernelContext c, IntArray control, int segment, FloatArray table, FloatArray x, int d, float scale) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= d) return;
        x.set(i, table.get(control.get(TOKEN) * d + i) * scale);
    }

    /** {@code dst = src}. */
    static void copy(KernelContext c, IntArray control, int segment, FloatArray src, FloatArray dst, int n) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= n) return;
        dst.set(i, src.get(i));
    }

    /** {@code dst = src} whatever the segment range: the residual stream as a graph leaves it, for the host. */
    static void snapshot(KernelContext c, FloatArray src, FloatArray dst, int n) {
        int i = c.globalIdx;
        if (i >= n) return;
        dst.set(i, src.get(i));
    }

    /** {@code x += y}. */
    static void add(KernelContext c, IntArray control, int segment, FloatArray x, FloatArray y, int n) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= n) return;
        x.set(i, x.get(i) + y.get(i));
    }

    /** {@code dst = hostIn} when the host ran hooks at {@code point} (control[INJECT]). */
    static void inject(KernelContext c, IntArray control, int point, FloatArray hostIn, FloatArray dst, int n) {
        int i = c.globalIdx;
        if (control.get(INJECT) != point || i >= n) return;
        dst.set(i, hostIn.get(i));
    }

    /** LayerNorm of each row ({@code n} wide) of src into dst (may be the same); one work-group per row. */
    static void layerNorm(KernelContext c, IntArray control, int segment, FloatArray src, FloatArray dst,
                          FloatArray w, FloatArray b, int n, float eps) {
        if (skip(control, segment)) return;
        int lid = c.localIdx, off = c.groupIdx * n;
        float sum = 0.0f;
        for (int i = lid; i < n; i += GROUP) sum += src.get(off + i);
        float mean = groupSum(c, sum) / n;
        float sq = 0.0f;
        for (int base = 0; base < n; base += GROUP) {
            int i = base + lid;
            if (i < n) {
                float d = src.get(off + i) - mean;
                sq += d * d;
            }
        }
        float inv = 1.0f / TornadoMath.sqrt(groupSum(c, sq) / n + eps);
        for (int base = 0; base < n; base += GROUP) {
            int i = base + lid;
            if (i < n) dst.set(off + i, (src.get(off + i) - mean) * inv * w.get(i) + b.get(i));
        }
    }

    /** RMSNorm ({@code * (weightOffset + w)}: Gemma stores the scale as an offset from 1) of each row ({@code n} wide) of src into dst; one work-group per row. */
    static void rmsNorm(KernelContext c, IntArray control, int segment, FloatArray src, FloatArray dst, FloatArray w, int n, float eps,
                        float weightOffset) {
        if (skip(control, segment)) return;
        int lid = c.localIdx, off = c.groupIdx * n;
        float sq = 0.0f;
        for (int i = lid; i < n; i += GROUP) sq += src.get(off + i) * src.get(off + i);
        float inv = 1.0f / TornadoMath.sqrt(groupSum(c, sq) / n + eps);
        for (int base = 0; base < n; base += GROUP) {
            int i = base + lid;
            if (i < n) dst.set(off + i, src.get(off + i) * inv * (weightOffset + w.get(i)));
        }
    }

    /**
     * The sum of every thread's {@code value} over the work-group, returned to all of them.
     *
     * <p>Each reduction allocates its own local array: a local array must never be passed to another
     * method. TornadoVM 5.2 (OpenCL) indexes an array parameter of an inlined method as a Java heap
     * array, the element index turned into a byte offset past the 16-byte header
     * ({@code local[i]} becomes {@code adf[4 * i + 16]}), so the threads of a work-group write up
     * to 4 x 32 + 16 floats past a 32-float array, harmless only while nothing else lives there.
     * See gpu/README.md, "PoCL on several threads".
     */
    private static float groupSum(KernelContext c, float value) {
        int lid = c.localIdx;
        float[] partial = c.allocateFloatLocalArray(GROUP);
        partial[lid] = value;
        c.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride >>= 1) {
            if (lid < stride) partial[lid] += partial[lid + stride];
            c.localBarrier();
        }
        float total = partial[0];
        c.localBarrier();
        return total;
    }

    /** The largest of every thread's {@code value} over the work-group, returned to all of them (see {@link #groupSum}). */
    private static float groupMax(KernelContext c, float value) {
        int lid = c.localIdx;
        float[] partial = c.allocateFloatLocalArray(GROUP);
        partial[lid] = value;
        c.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride >>= 1) {
            if (lid < stride && partial[lid + stride] > partial[lid]) partial[lid] = partial[lid + stride];
            c.localBarrier();
        }
        float max = partial[0];
        c.localBarrier();
        return max;
    }

    /** {@code out[r] = W[r] . x}; one work-group per row. */
    static void matvec(KernelContext c, IntArray control, int segment, FloatArray w, FloatArray x, FloatArray out, int cols) {
        if (skip(control, segment)) return;
        int r = c.groupIdx;
        float sum = MatMulKernels.rowDot(c, w, r * cols, x, 0, cols);
        if (c.localIdx == 0) out.set(r, sum);
    }

    /** {@code out[r] = W[r] . x + bias[r]}; one work-group per row. */
    static void matvecBias(KernelContext c, IntArray control, int segment, FloatArray w, FloatArray x, FloatArray bias, FloatArray out, int cols) {
        if (skip(control, segment)) return;
        int r = c.groupIdx;
        float sum = MatMulKernels.rowDot(c, w, r * cols, x, 0, cols);
        if (c.localIdx == 0) out.set(r, sum + bias.get(r));
    }

    /** GPT-NeoX's fused {@code [head][q|k|v][headDim]} projection split into q, k and v. */
    static void splitQkv(KernelContext c, IntArray control, int segment, FloatArray qkv, FloatArray q, FloatArray k, FloatArray v, int heads, int headDim) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= heads * headDim) return;
        int head = i / headDim, j = i - head * headDim, src = head * 3 * headDim + j;
        q.set(i, qkv.get(src));
        k.set(i, qkv.get(src + headDim));
        v.set(i, qkv.get(src + 2 * headDim));
    }

    /**
     * Rotary embedding ("rotate half") of the first {@code 2 * pairs} entries of each head, with the
     * position's cos and sin at {@code table[tableOffset..]} ({@code pairs} of each), computed on the
     * host exactly as {@link io.jsteer.transformer.blocks.Rope} does. (Not named {@code half}: the
     * parameter names reach the OpenCL source, where that is a type.)
     */
    static void rope(KernelContext c, IntArray control, int segment, FloatArray x, int heads, int headDim, int pairs,
                     FloatArray table, int tableOffset) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= heads * pairs) return;
        int head = i / pairs, j = i - head * pairs, o = head * headDim + j;
        float cos = table.get(tableOffset + j), sin = table.get(tableOffset + pairs + j);
        float a = x.get(o), b = x.get(o + pairs);
        x.set(o, a * cos - b * sin);
        x.set(o + pairs, b * cos + a * sin);
    }

    /** Writes k and v at the current position of the sequence's slot in the layer's cache. */
    static void storeKv(KernelContext c, IntArray control, int segment, FloatArray k, FloatArray v, FloatArray keys, FloatArray values,
                        int kvWidth, int capacity) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= kvWidth) return;
        int at = (control.get(SLOT) * capacity + control.get(POS)) * kvWidth + i;
        keys.set(at, k.get(i));
        values.set(at, v.get(i));
    }

    /**
     * One query token's attention, one work-group per head: {@code softmax(cap(scale * q k^T)) v} over
     * the cached positions within the window. Scores go through {@code scores[head][capacity]}.
     */
    static void attention(KernelContext c, IntArray control, int segment, FloatArray q, FloatArray keys, FloatArray values,
                          FloatArray scores, FloatArray out, int headDim, int group, int kvWidth, int capacity,
                          float scale, float cap, int window) {
        if (skip(control, segment)) return;
        int head = c.groupIdx, lid = c.localIdx;
        int pos = control.get(POS), first = pos - window + 1 > 0 ? pos - window + 1 : 0;
        int cache = control.get(SLOT) * capacity * kvWidth + (head / group) * headDim;
        int qOff = head * headDim, sOff = head * capacity;
        float max = -Float.MAX_VALUE;
        for (int j = first + lid; j <= pos; j += GROUP) {
            float s = 0.0f;
            for (int i = 0; i < headDim; i++) s += q.get(qOff + i) * keys.get(cache + j * kvWidth + i);
            s *= scale;
            if (cap > 0.0f) s = TornadoMath.tanh(s / cap) * cap;
            scores.set(sOff + j, s);
            max = s > max ? s : max;
        }
        max = groupMax(c, max);
        float sum = 0.0f;
        for (int chunk = first; chunk <= pos; chunk += GROUP) {
            int j = chunk + lid;
            if (j <= pos) {
                float e = TornadoMath.exp(scores.get(sOff + j) - max);
                scores.set(sOff + j, e);
                sum += e;
            }
        }
        float inv = 1.0f / groupSum(c, sum);
        // the weights reach the other threads through local memory, a chunk of GROUP positions at a time
        float[] weight = c.allocateFloatLocalArray(GROUP);
        for (int base = 0; base < headDim; base += GROUP) {
            int i = base + lid;
            float acc = 0.0f;
            for (int chunk = first; chunk <= pos; chunk += GROUP) {
                int j = chunk + lid;
                weight[lid] = j <= pos ? scores.get(sOff + j) * inv : 0.0f;
                c.localBarrier();
                if (i < headDim) {
                    int last = pos - chunk < GROUP - 1 ? pos - chunk : GROUP - 1;
                    for (int t = 0; t <= last; t++) acc += weight[t] * values.get(cache + (chunk + t) * kvWidth + i);
                }
                c.localBarrier();
            }
            if (i < headDim) out.set(qOff + i, acc);
        }
    }

    /** {@code x = act(x)} (plain MLP). */
    static void activate(KernelContext c, IntArray control, int segment, FloatArray x, int act, int n) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= n) return;
        x.set(i, activation(x.get(i), act));
    }

    /** {@code x = act(gate) * x} (gated MLP: x holds up(h)). */
    static void activateGated(KernelContext c, IntArray control, int segment, FloatArray x, FloatArray gate, int act, int n) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= n) return;
        x.set(i, activation(gate.get(i), act) * x.get(i));
    }

    private static float activation(float a, int act) {
        if (act == SILU) return a / (1.0f + TornadoMath.exp(-a));
        if (act == GELU_ERF) return 0.5f * a * (1.0f + erf(a * 0.70710678f));
        return 0.5f * a * (1.0f + TornadoMath.tanh(0.7978845608f * (a + 0.044715f * a * a * a)));
    }

    /** The error function, Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7; OpenCL C has erf, TornadoMath does not). */
    private static float erf(float x) {
        float ax = x < 0.0f ? -x : x;
        float t = 1.0f / (1.0f + 0.3275911f * ax);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        float y = 1.0f - poly * TornadoMath.exp(-ax * ax);
        return x < 0.0f ? -y : y;
    }

    /** {@code x = tanh(x / cap) * cap} (Gemma 2's final logit soft-cap). */
    static void softcap(KernelContext c, IntArray control, int segment, FloatArray x, float cap, int n) {
        int i = c.globalIdx;
        if (skip(control, segment) || i >= n) return;
        x.set(i, TornadoMath.tanh(x.get(i) / cap) * cap);
    }
}
