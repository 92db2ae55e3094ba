/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * {@link ForwardKernels#attention} alone, launched many times on fixed inputs, against a
 * double-precision {@code softmax(cap(scale q k^T)) v}, with a guard after each output that must
 * stay untouched. Its former version, whose last loop was {@code for (i = lid; i < headDim; i += GROUP)},
 * had threads 24-31 of each 24-wide head write the next head's first elements (and past the end
 * of the output) on PoCL 3.1: the guard caught it on any number of threads, the values in about 2%
 * of these executions with 2 threads (gpu/README.md). Runs on the TornadoVM device (see gpu/pom.xml).
 */
class AttentionKernelTest {
    private static final double TOLERANCE = 1e-4;
    /** Written after each output before the first launch; a kernel writing past the output changes it. */
    private static final float GUARD = -12345.0f;
    private static TornadoBackend backend;

    @BeforeAll
    static void create() {
        backend = TestBackends.open();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** gemma-tiny's attention (4 heads of 24 over 2 KV heads), positions 0-6, 20 launches per execution. */
    @Test
    void smallHeadsLaunchedManyTimes() {
        assertEquals(0, wrongExecutions(new Shape(4, 2, 24, 128, 128, 0f), 7, 20, 600));
    }

    /** Heads wider than a work-group, more positions than it has threads, a sliding window and a soft-cap. */
    @Test
    void wideHeadsLongSequenceWindowAndSoftcap() {
        assertEquals(0, wrongExecutions(new Shape(4, 1, 72, 128, 50, 5f), 90, 4, 180));
    }

    private record Shape(int heads, int kvHeads, int headDim, int capacity, int window, float cap) {
        int kvWidth() {
            return kvHeads * headDim;
        }
    }

    /**
     * Runs {@code executions} executions of {@code launches} attention tasks on the same inputs, the
     * query at positions {@code 0..positions-1} in turn, over the two cache slots; returns how many
     * executions had a task whose output differs from the double-precision reference or which wrote
     * past its output.
     */
    private static int wrongExecutions(Shape s, int positions, int launches, int executions) {
        int slots = 2, kvW = s.kvWidth();
        Random random = new Random(7);
        IntArray control = new IntArray(ForwardKernels.CONTROL_SIZE);
        control.set(ForwardKernels.FROM, 0);
        control.set(ForwardKernels.TO, 1);
        control.set(ForwardKernels.INJECT, -1);
        FloatArray q = gaussian(random, s.heads() * s.headDim());
        FloatArray keys = gaussian(random, slots * s.capacity() * kvW), values = gaussian(random, slots * s.capacity() * kvW);
        float scale = (float) (1 / Math.sqrt(s.headDim()));
        FloatArray[] scores = new FloatArray[launches], outs = new FloatArray[launches];
        GridScheduler grids = new GridScheduler();
        TaskGraph graph = new TaskGraph("attention").transferToDevice(DataTransferMode.EVERY_EXECUTION, control)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, q, keys, values);
        for (int k = 0; k < launches; k++) {
            scores[k] = new FloatArray(s.heads() * s.capacity());
            outs[k] = new FloatArray(s.heads() * s.headDim() + ForwardKernels.GROUP);
            outs[k].init(GUARD);
            graph.task("t" + k, ForwardKernels::attention, new KernelContext(), control, 0, q, keys, values, scores[k], outs[k],
                    s.headDim(), s.heads() / s.kvHeads(), kvW, s.capacity(), scale, s.cap(), s.window());
            WorkerGrid1D grid = new WorkerGrid1D(s.heads() * ForwardKernels.GROUP);
            grid.setLocalWork(ForwardKernels.GROUP, 1, 1);
            grids.addWorkerGrid("attention.t" + k, grid);
        }
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, (Object[]) scores);
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, (Object[]) outs);
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, (Object[]) outs);
        int wrong = 0;
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())) {
            plan.withDevice(backend.device()).withGridScheduler(grids);
            for (int e = 0; e < executions; e++) {
                int pos = e % positions, slot = (e / positions) % slots;
                control.set(ForwardKernels.POS, pos);
                control.set(ForwardKernels.SLOT, slot);
                plan.execute();
                double[] expected = reference(s, q, keys, values, pos, slot);
                boolean ok = true;
                for (FloatArray out : outs) {
                    for (int i = 0; i < expected.length; i++) ok &= Math.abs(out.get(i) - expected[i]) <= TOLERANCE;
                    for (int i = expected.length; i < out.getSize(); i++) ok &= out.get(i) == GUARD;
                }
                if (!ok) wrong++;
            }
        } catch (Exception e) {
            throw new AssertionError("attention kernel on " + backend.deviceDescription(), e);
        }
        return wrong;
    }

    /** {@code softmax(cap(scale q k^T)) v} per head, in double, over the positions within the window. */
    private static double[] reference(Shape s, FloatArray q, FloatArray keys, FloatArray values, int pos, int slot) {
        int hd = s.headDim(), kvW = s.kvWidth(), first = Math.max(0, pos - s.window() + 1);
        double scale = 1 / Math.sqrt(hd);
        double[] out = new double[s.heads() * hd];
        for (int h = 0; h < s.heads(); h++) {
            int cache = slot * s.capacity() * kvW + h / (s.heads() / s.kvHeads()) * hd;
            double[] w = new double[pos + 1];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = first; j <= pos; j++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) dot += (double) q.get(h * hd + i) * keys.get(cache + j * kvW + i);
                w[j] = s.cap() > 0 ? Math.tanh(dot * scale / s.cap()) * s.cap() : dot * scale;
                max = Math.max(max, w[j]);
            }
            for (int j = first; j <= pos; j++) sum += w[j] = Math.exp(w[j] - max);
            for (int i = 0; i < hd; i++) {
                for (int j = first; j <= pos; j++) out[h * hd + i] += w[j] / sum * values.get(cache + j * kvW + i);
            }
        }
        return out;
    }

    private static FloatArray gaussian(Random random, int n) {
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) a.set(i, (float) random.nextGaussian());
        return a;
    }
}
