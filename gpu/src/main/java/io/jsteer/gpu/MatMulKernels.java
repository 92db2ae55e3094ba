/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * TornadoVM kernels (Java bytecode that TornadoVM compiles to OpenCL, PTX or SPIR-V) for products
 * against a row-major weight matrix {@code W[rows][cols]}.
 *
 * <p>Each work-group of {@link #GROUP_SIZE} threads computes one output element, a dot product of a
 * weight row with an activation row: the threads stride over the columns, then reduce their partial
 * sums in local memory by halving (the classic tree reduction). One row per work-group rather than
 * per thread keeps neighbouring threads on neighbouring columns, so weight reads coalesce.
 */
final class MatMulKernels {
    /**
     * Threads per work-group, a power of two (the reduction halves it). 32 is one NVIDIA warp, and
     * fits every OpenCL device; it is a constant because the local array size must be known when the
     * kernel is compiled.
     */
    static final int GROUP_SIZE = 32;

    private MatMulKernels() {}

    /** {@code out[r] = sum_c W[r][c] * x[c]}; launched with {@code rows * GROUP_SIZE} threads. */
    static void matvec(KernelContext context, FloatArray w, FloatArray x, FloatArray out, int cols) {
        int r = context.groupIdx;
        float sum = rowDot(context, w, r * cols, x, 0, cols);
        if (context.localIdx == 0) {
            out.set(r, sum);
        }
    }

    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]} for x {@code [tokens][cols]} and out
     * {@code [tokens][rows]}; launched with {@code tokens * rows * GROUP_SIZE} threads, work-group
     * {@code g} computing token {@code g / rows}, row {@code g % rows}.
     */
    static void matmul(KernelContext context, FloatArray w, FloatArray x, FloatArray out, int rows, int cols) {
        int g = context.groupIdx;
        int t = g / rows;
        int r = g - t * rows;
        float sum = rowDot(context, w, r * cols, x, t * cols, cols);
        if (context.localIdx == 0) {
            out.set(g, sum);
        }
    }

    /** The work-group's dot product of {@code w[wOffset, wOffset + n)} and {@code x[xOffset, xOffset + n)}. */
    static float rowDot(KernelContext context, FloatArray w, int wOffset, FloatArray x, int xOffset, int n) {
        int lid = context.localIdx;
        float[] partial = context.allocateFloatLocalArray(GROUP_SIZE);
        float sum = 0.0f;
        for (int c = lid; c < n; c += GROUP_SIZE) {
            sum += w.get(wOffset + c) * x.get(xOffset + c);
        }
        partial[lid] = sum;
        context.localBarrier();
        for (int stride = GROUP_SIZE / 2; stride > 0; stride >>= 1) {
            if (lid < stride) {
                partial[lid] += partial[lid + stride];
            }
            context.localBarrier();
        }
        return partial[0];
    }
}
