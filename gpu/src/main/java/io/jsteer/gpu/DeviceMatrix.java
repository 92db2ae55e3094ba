/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * One weight matrix resident on a TornadoVM device, with the two task graphs that multiply by it.
 *
 * <p>Graph 0 (matvec, one token) uploads W on its first execution and keeps it on the device
 * ({@code persistOnDevice}); graph 1 (batched, up to {@link #TOKEN_BLOCK} tokens per launch) uses
 * that same device buffer ({@code consumeFromDevice}), so W is transferred and stored once. Only
 * activations move per call: x in, out back. Graph 1 copies back just the rows of the tokens it
 * computed, so a short last block costs no more than its size.
 */
final class DeviceMatrix implements AutoCloseable {
    /**
     * Tokens per batched launch. Bounds the device activation buffers ({@code TOKEN_BLOCK * cols}
     * and {@code TOKEN_BLOCK * rows} floats) independently of the prompt length.
     */
    static final int TOKEN_BLOCK = 32;

    private static final AtomicLong IDS = new AtomicLong();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final String TASK = "k";
    /** Elements converted per step when widening F16/BF16 to F32. */
    private static final int CONVERT_CHUNK = 1 << 16;

    private final String name;
    private final int rows;
    private final int cols;
    private final FloatArray x1;
    private final FloatArray out1;
    private final FloatArray xBlock;
    private final FloatArray outBlock;
    private final WorkerGrid blockGrid;
    private final TornadoExecutionPlan plan;

    /**
     * Uploads {@code w} ({@code [rows][cols]}, any stored dtype, widened to F32) to {@code device} and
     * compiles the matvec kernel, so that failures show here rather than mid-forward-pass.
     */
    DeviceMatrix(Tensor w, TornadoDevice device) {
        this(w.name(), toFloatArray(w), w.dim(0), w.dim(1), device);
    }

    /** As {@link #DeviceMatrix(Tensor, TornadoDevice)}, from weights already in a host F32 array. */
    DeviceMatrix(String name, FloatArray weights, int rows, int cols, TornadoDevice device) {
        if ((long) rows * cols != weights.getSize()) {
            throw new IllegalArgumentException(name + ": " + weights.getSize() + " weights for [" + rows + "][" + cols + "]");
        }
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        x1 = new FloatArray(cols);
        out1 = new FloatArray(rows);
        xBlock = new FloatArray(TOKEN_BLOCK * cols);
        outBlock = new FloatArray(TOKEN_BLOCK * rows);

        long id = IDS.incrementAndGet();
        String mv = "matvec" + id;
        String mm = "matmul" + id;
        TaskGraph matvec = new TaskGraph(mv)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, weights)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, x1)
                .task(TASK, MatMulKernels::matvec, new KernelContext(), weights, x1, out1, cols)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out1)
                .persistOnDevice(weights);
        TaskGraph matmul = new TaskGraph(mm)
                .consumeFromDevice(mv, weights)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, xBlock)
                .task(TASK, MatMulKernels::matmul, new KernelContext(), weights, xBlock, outBlock, rows, cols)
                .transferToHost(DataTransferMode.UNDER_DEMAND, outBlock);

        WorkerGrid vectorGrid = new WorkerGrid1D(rows * MatMulKernels.GROUP_SIZE);
        vectorGrid.setLocalWork(MatMulKernels.GROUP_SIZE, 1, 1);
        blockGrid = new WorkerGrid1D(TOKEN_BLOCK * rows * MatMulKernels.GROUP_SIZE);
        blockGrid.setLocalWork(MatMulKernels.GROUP_SIZE, 1, 1);
        GridScheduler grids = new GridScheduler();
        grids.addWorkerGrid(mv + "." + TASK, vectorGrid);
        grids.addWorkerGrid(mm + "." + TASK, blockGrid);

        plan = new TornadoExecutionPlan(matvec.snapshot(), matmul.snapshot());
        plan.withDevice(device).withGridScheduler(grids);
        // The first execution transfers W; graph 1 may only run once W is on the device.
        try {
            plan.withGraph(0).execute();
        } catch (RuntimeException e) {
            try {
                plan.close();
            } catch (TornadoExecutionPlanException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Whether the kernels can index {@code w} (a matrix) and its activation blocks with int offsets. */
    static boolean indexable(Tensor w) {
        long rows = w.shape()[0];
        long cols = w.shape()[1];
        return rows * cols <= Integer.MAX_VALUE && (long) TOKEN_BLOCK * rows * MatMulKernels.GROUP_SIZE <= Integer.MAX_VALUE
                && (long) TOKEN_BLOCK * cols <= Integer.MAX_VALUE;
    }

    /** Bytes this matrix occupies on the device (weights plus activation buffers). */
    static long deviceBytes(Tensor w) {
        long rows = w.shape()[0];
        long cols = w.shape()[1];
        return 4L * (rows * cols + (1L + TOKEN_BLOCK) * (rows + cols));
    }

    /** {@code out[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens}, as {@link io.jsteer.transformer.backend.Backend#matmul}. */
    synchronized void matmul(float[] x, float[] out, int tokens) {
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
            int n = Math.min(TOKEN_BLOCK, tokens - t0);
            if (n == 1) {
                vector(x, t0 * cols, out, t0 * rows);
            } else {
                block(x, t0 * cols, out, t0 * rows, n);
            }
        }
    }

    private void vector(float[] x, int xFrom, float[] out, int outFrom) {
        MemorySegment.copy(x, xFrom, x1.getSegment(), FLOAT, 0, cols);
        plan.withGraph(0).execute();
        MemorySegment.copy(out1.getSegment(), FLOAT, 0, out, outFrom, rows);
    }

    private void block(float[] x, int xFrom, float[] out, int outFrom, int n) {
        MemorySegment.copy(x, xFrom, xBlock.getSegment(), FLOAT, 0, n * cols);
        blockGrid.setGlobalWork((long) n * rows * MatMulKernels.GROUP_SIZE, 1, 1);
        TornadoExecutionResult result = plan.withGraph(1).execute();
        result.transferToHost(new DataRange(outBlock).withSize((long) n * rows));
        MemorySegment.copy(outBlock.getSegment(), FLOAT, 0, out, outFrom, n * rows);
    }

    /** The weight as a host F32 array; F16/BF16 are widened (OpenCL devices may lack half precision). */
    static FloatArray toFloatArray(Tensor w) {
        int size = Math.toIntExact(w.size());
        FloatArray array = new FloatArray(size);
        MemorySegment dst = array.getSegment();
        if (w.dtype() == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            // safetensors data is little-endian F32, the layout FloatArray holds on this host
            MemorySegment.copy(w.data(), 0, dst, 0, 4L * size);
            return array;
        }
        float[] chunk = new float[Math.min(size, CONVERT_CHUNK)];
        for (int from = 0; from < size; from += chunk.length) {
            int n = Math.min(chunk.length, size - from);
            float[] part = n == chunk.length ? chunk : new float[n];
            w.read(from, part);
            MemorySegment.copy(part, 0, dst, FLOAT, 4L * from, n);
        }
        return array;
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("freeing device memory of " + name, e);
        }
    }

    @Override
    public String toString() {
        return name + " [" + rows + "][" + cols + "]";
    }
}
