/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static io.jsteer.gpu.ForwardKernels.CONTROL_SIZE;
import static io.jsteer.gpu.ForwardKernels.FROM;
import static io.jsteer.gpu.ForwardKernels.GROUP;
import static io.jsteer.gpu.ForwardKernels.INJECT;
import static io.jsteer.gpu.ForwardKernels.POS;
import static io.jsteer.gpu.ForwardKernels.SLOT;
import static io.jsteer.gpu.ForwardKernels.TO;
import static io.jsteer.gpu.ForwardKernels.TOKEN;

import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.ModelWeights;
import io.jsteer.transformer.State;
import io.jsteer.transformer.blocks.Norm;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
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
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One model resident on a TornadoVM device: its weights (widened to F32), the residual stream,
 * every intermediate activation and the KV caches of up to {@link #SEQUENCES_PROPERTY} sequences,
 * with one task graph per block plus the embedding and the unembedding, which run a token through
 * the model (see {@link ForwardKernels}).
 *
 * <p>Per token the host sends each graph a control array (token id, position, cache slot, the
 * segment range to run) and the rotary cos/sin of that position, computed as
 * {@link io.jsteer.transformer.blocks.Rope} does; only the logits come back (for a prompt token whose
 * logits are not wanted, the residual stream, to wait for the device). Tokens go through one at a
 * time; with hooks attached, every token of the call runs up to the first hooked point, the hooks
 * see all their rows there in one call, and every token resumes from the rows they left, up to the
 * next hooked point (see {@link #pass}): the hooks see what they see on the CPU.
 */
final class DeviceModel implements AutoCloseable {
    /** System property: how many sequences (states) keep a KV cache on the device at once; default 2. */
    static final String SEQUENCES_PROPERTY = "jsteer.tornado.sequences";
    /** System property: the longest sequence the device KV cache holds; default min(max_position_embeddings, 8192). */
    static final String CONTEXT_PROPERTY = "jsteer.tornado.context";
    /**
     * The hook points the kernels can pause at, in forward order: the residual stream and the
     * branch outputs of each block. A hook anywhere else is refused ({@link #hookedPoints}).
     */
    static final List<HookPoint> POINTS_ON_DEVICE = List.of(HookPoint.RESID_PRE, HookPoint.ATTN_OUT, HookPoint.RESID_MID,
            HookPoint.MLP_OUT, HookPoint.RESID_POST);
    private static final int POINTS = POINTS_ON_DEVICE.size();
    /** The families whose every part the kernels compute (a family added to the CPU model is refused here until then). */
    private static final Set<Architecture> SUPPORTED = EnumSet.of(Architecture.GPT_NEOX, Architecture.GEMMA, Architecture.GEMMA2,
            Architecture.GEMMA3, Architecture.LLAMA, Architecture.MISTRAL, Architecture.QWEN2, Architecture.QWEN3);
    private static final AtomicLong IDS = new AtomicLong();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final ModelConfig config;
    private final int d;
    private final int capacity;
    private final Sequences sequences;
    private final float[][] invFreq;
    private final int ropeWidth;
    /** The residual stream: one device buffer, handed from each graph to the next. */
    private final FloatArray x;
    private final String prefix = "forward" + IDS.incrementAndGet() + "_";
    private final GridScheduler grids = new GridScheduler();
    /** The current graph's weights by host object, so that one used twice is uploaded once. */
    private final Map<Object, FloatArray> uploaded = new IdentityHashMap<>();
    /** Graph 0 embeds, graph {@code l + 1} runs block l, the last one unembeds. */
    private final List<Stage> stages = new ArrayList<>();
    private final TornadoExecutionPlan plan;
    /** The stage tasks are being added to while the graphs are built. */
    private Stage current;

    /** How many sequences keep a KV cache on the device ({@link #SEQUENCES_PROPERTY}). */
    static int sequences() {
        int n = Integer.getInteger(SEQUENCES_PROPERTY, 2);
        if (n < 1) throw new IllegalArgumentException("-D" + SEQUENCES_PROPERTY + "=" + n + ": at least one sequence is needed");
        return n;
    }

    /** Uploads {@code model}'s weights to {@code device} and compiles its kernels (one execution that computes nothing). */
    DeviceModel(Model model, TornadoDevice device) {
        config = model.config();
        ModelConfig c = config;
        if (!SUPPORTED.contains(c.architecture())) {
            throw new UnsupportedOperationException(c.architecture().hfName() + " is not supported on the device backend yet; use the CPU backend");
        }
        ModelWeights w = model.weights();
        d = c.hiddenSize();
        int H = c.numHeads(), KV = c.numKvHeads(), hd = c.headDim(), qW = H * hd, kvW = KV * hd, ff = c.intermediateSize();
        int V = c.vocabSize(), L = c.numLayers(), half = c.rotaryDims() / 2;
        capacity = Math.min(c.maxPositions(), Integer.getInteger(CONTEXT_PROPERTY, 8192));
        sequences = new Sequences(sequences());
        int slots = sequences.size();

        // rotary tables: one per distinct set of inverse frequencies (base and rope_scaling), shared by the layers that use it
        List<float[]> ropes = new ArrayList<>();
        int[] ropeOf = new int[L];
        for (int l = 0; l < L; l++) {
            float[] inv = new Rope(c.rotaryDims(), c.ropeBase(l), c.ropeScaling(l)).inverseFrequencies();
            int r = 0;
            while (r < ropes.size() && !Arrays.equals(ropes.get(r), inv)) r++;
            if (r == ropes.size()) ropes.add(inv);
            ropeOf[l] = r;
        }
        invFreq = ropes.toArray(float[][]::new);
        ropeWidth = Math.max(1, 2 * half * ropes.size());
        x = new FloatArray(d);
        int act = switch (c.activation()) {
            case GELU_ERF -> ForwardKernels.GELU_ERF;
            case GELU_TANH -> ForwardKernels.GELU_TANH;
            case SILU -> ForwardKernels.SILU;
        };
        float embedScale = c.embeddingScale();

        Stage embed = stage(0, 0, 0, 0);
        FloatArray table = weight(w.embed());
        elementwise(d, (g, n) -> g.task(n, ForwardKernels::embed, new KernelContext(), embed.control, 0, table, x, d, embedScale));
        for (int l = 0; l < L; l++) {
            LayerWeights lw = w.layers()[l];
            int pre = boundary(l, HookPoint.RESID_PRE), s = boundary(l, HookPoint.ATTN_OUT), mid = boundary(l, HookPoint.RESID_MID);
            int m = boundary(l, HookPoint.MLP_OUT), post = boundary(l, HookPoint.RESID_POST);
            Stage st = stage(s, post, pre, post);
            IntArray control = st.control;
            FloatArray h = buffer(d), q = buffer(qW), k = buffer(kvW), v = buffer(kvW), att = buffer(qW), mlpIn = buffer(d);
            FloatArray up = buffer(ff), gate = buffer(ff), scores = buffer(H * capacity);
            FloatArray keys = buffer(slots * capacity * kvW), values = buffer(slots * capacity * kvW);
            FloatArray attnOut = st.attnOut, mlpOut = st.mlpOut;
            inject(pre, x);

            norm(s, lw.attnNorm(), x, h, 1);
            if (lw.qkv() != null) {
                FloatArray qkv = buffer(3 * qW);
                matvec(s, lw.qkv(), lw.qkvBias(), h, qkv);
                elementwise(qW, (g, n) -> g.task(n, ForwardKernels::splitQkv, new KernelContext(), control, s, qkv, q, k, v, H, hd));
            } else {
                matvec(s, lw.q(), lw.qBias(), h, q);
                matvec(s, lw.k(), lw.kBias(), h, k);
                matvec(s, lw.v(), lw.vBias(), h, v);
            }
            if (lw.qNorm() != null) {
                norm(s, lw.qNorm(), q, q, H);
                norm(s, lw.kNorm(), k, k, KV);
            }
            if (half > 0) {
                int offset = ropeOf[l] * 2 * half;
                elementwise(H * half, (g, n) -> g.task(n, ForwardKernels::rope, new KernelContext(), control, s, q, H, hd, half, st.rope, offset));
                elementwise(KV * half, (g, n) -> g.task(n, ForwardKernels::rope, new KernelContext(), control, s, k, KV, hd, half, st.rope, offset));
            }
            elementwise(kvW, (g, n) -> g.task(n, ForwardKernels::storeKv, new KernelContext(), control, s, k, v, keys, values, kvW, capacity));
            int window = c.isSliding(l) ? c.slidingWindow() : capacity;
            float scale = c.attentionScale(), cap = c.attnSoftcap();
            groups(H, (g, n) -> g.task(n, ForwardKernels::attention, new KernelContext(), control, s, q, keys, values, scores, att,
                    hd, H / KV, kvW, capacity, scale, cap, window));
            matvec(s, lw.o(), lw.oBias(), att, attnOut);
            if (lw.attnOutNorm() != null) norm(s, lw.attnOutNorm(), attnOut, attnOut, 1);
            inject(s, attnOut);
            injectResid(s);

            if (c.parallelResidual()) copy(mid, x, mlpIn);
            elementwise(d, (g, n) -> g.task(n, ForwardKernels::add, new KernelContext(), control, mid, x, attnOut, d));
            if (!c.parallelResidual()) {
                inject(mid, x);
                copy(m, x, mlpIn);
            }

            norm(m, lw.mlpNorm(), mlpIn, mlpIn, 1);
            matvec(m, lw.up(), lw.upBias(), mlpIn, up);
            if (lw.gate() != null) {
                matvec(m, lw.gate(), lw.gateBias(), mlpIn, gate);
                elementwise(ff, (g, n) -> g.task(n, ForwardKernels::activateGated, new KernelContext(), control, m, up, gate, act, ff));
            } else {
                elementwise(ff, (g, n) -> g.task(n, ForwardKernels::activate, new KernelContext(), control, m, up, act, ff));
            }
            matvec(m, lw.down(), lw.downBias(), up, mlpOut);
            if (lw.mlpOutNorm() != null) norm(m, lw.mlpOutNorm(), mlpOut, mlpOut, 1);
            inject(m, mlpOut);
            injectResid(m);

            elementwise(d, (g, n) -> g.task(n, ForwardKernels::add, new KernelContext(), control, post, x, mlpOut, d));
            inject(post, x);
        }
        int last = L * POINTS;
        Stage unembed = stage(last, last, -1, -1);
        FloatArray h = buffer(d);
        norm(last, w.finalNorm(), x, h, 1);
        matvec(last, w.lmHead(), null, h, unembed.logits);
        float finalCap = c.finalSoftcap();
        if (finalCap > 0) {
            elementwise(V, (g, n) -> g.task(n, ForwardKernels::softcap, new KernelContext(), unembed.control, last, unembed.logits, finalCap, V));
        }

        for (Stage stage : stages) {
            current = stage;
            elementwise(d, (g, n) -> g.task(n, ForwardKernels::snapshot, new KernelContext(), x, stage.residOut, d));
        }
        plan = new TornadoExecutionPlan(stages.stream().map(Stage::build).toArray(ImmutableTaskGraph[]::new));
        plan.withDevice(device).withGridScheduler(grids);
        uploaded.clear();
        try {
            // in graph order: each takes the residual stream's buffer from the one before
            for (Stage stage : stages) execute(stage, 0, 0, -1);
            await(stages.getLast());
        } catch (RuntimeException e) {
            try {
                plan.close();
            } catch (TornadoExecutionPlanException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Appends {@code tokens} to {@code state}'s sequence, as {@link io.jsteer.transformer.backend.DeviceBackend#forward}:
     * logits of every token when {@code allLogits}, else of the last.
     */
    synchronized float[] forward(State state, int[] tokens, boolean allLogits) {
        return pass(state, tokens, config.numLayers(), true, allLogits);
    }

    /**
     * Runs {@code tokens} through the first {@code layers} blocks for their hooks only, as
     * {@link io.jsteer.transformer.backend.DeviceBackend#forwardBlocks}: the caller does not advance the state, so the keys
     * and values written count for nothing.
     */
    synchronized void forwardBlocks(State state, int[] tokens, int layers) {
        pass(state, tokens, layers, false, false);
    }

    /**
     * One call's tokens through the first {@code layers} blocks, hook point by hook point: every
     * token runs up to the next hooked point, the hooks see all the call's rows there in one call
     * (the hook contract of {@link io.jsteer.transformer.hooks}), then every token resumes from
     * what they left. Tokens go in position order within each stretch, so attention finds the
     * earlier tokens' keys and values of the block already written, from the rows as the hooks left
     * them, as on the CPU. Pausing a token keeps on the host what it needs to resume: the hooked
     * activation, and at a branch output ({@code attn_out}, {@code mlp_out}) the residual stream
     * too. With {@code logits}, the stretch after the last hooked point ends with the unembedding
     * of the wanted tokens; without, nothing runs past the last hooked point.
     */
    private float[] pass(State state, int[] tokens, int layers, boolean logits, boolean allLogits) {
        int T = tokens.length, V = config.vocabSize(), start = state.length();
        if (start + T > capacity) {
            throw new IllegalArgumentException("sequence of " + (start + T) + " tokens exceeds the device KV cache of " + capacity
                    + " positions (-D" + CONTEXT_PROPERTY + "=N raises it, up to max_position_embeddings " + config.maxPositions() + ")");
        }
        List<HookName> hooked = hookedPoints(state, layers);
        int slot = sequences.slotFor(state);
        int promptLength = state.promptLength() < 0 ? T : state.promptLength();
        float[][] rope = new float[T][ropeWidth];
        for (int t = 0; t < T; t++) ropeAt(start + t, rope[t]);
        Paused paused = Paused.NOT_STARTED;
        int from = 0;
        for (HookName name : hooked) {
            int b = boundary(name.layer(), name.point());
            boolean branch = name.point() == HookPoint.ATTN_OUT || name.point() == HookPoint.MLP_OUT;
            float[] rows = new float[T * d];
            float[][] resid = branch ? new float[T][d] : null;
            for (int t = 0; t < T; t++) {
                Stage last = resume(t, tokens[t], start + t, slot, rope[t], paused, from, b + 1);
                FloatArray buffer = last.hookBuffer(name.point());
                last.result.transferToHost(buffer);
                MemorySegment.copy(buffer.getSegment(), FLOAT, 0, rows, t * d, d);
                if (branch) {
                    last.result.transferToHost(last.residOut);
                    MemorySegment.copy(last.residOut.getSegment(), FLOAT, 0, resid[t], 0, d);
                }
            }
            state.hooks().run(new HookContext(name, start, T, d, promptLength), rows);
            paused = new Paused(b, rows, resid);
            from = b + 1;
        }
        if (!logits) return null;
        float[] out = new float[(allLogits ? T : 1) * V];
        for (int t = 0; t < T; t++) {
            boolean wanted = allLogits || t == T - 1;
            // prompt tokens whose logits nobody reads stop before the final norm and unembedding
            Stage last = resume(t, tokens[t], start + t, slot, rope[t], paused, from, config.numLayers() * POINTS + (wanted ? 1 : 0));
            if (wanted) {
                Stage unembed = stages.getLast();
                last.result.transferToHost(unembed.logits);
                MemorySegment.copy(unembed.logits.getSegment(), FLOAT, 0, out, allLogits ? t * V : 0, V);
            } else {
                await(last);
            }
        }
        return out;
    }

    /**
     * The hooked points of the first {@code layers} blocks, in forward order. A hook at a point
     * the kernels cannot pause at is refused with one line, before anything runs: it would
     * otherwise be skipped silently.
     */
    private static List<HookName> hookedPoints(State state, int layers) {
        List<HookName> hooked = new ArrayList<>();
        for (int l = 0; l < state.hooks().layers(); l++) {
            for (HookPoint p : HookPoint.values()) {
                if (!state.hooks().active(l, p)) continue;
                if (!POINTS_ON_DEVICE.contains(p)) {
                    throw new UnsupportedOperationException("hook point " + new HookName(l, p) + " is not supported on the device backend yet "
                            + "(it pauses at " + POINTS_ON_DEVICE.stream().map(HookPoint::tlName).toList() + "); use the CPU backend");
                }
                if (l < layers) hooked.add(new HookName(l, p));
            }
        }
        hooked.sort(Comparator.comparingInt(n -> boundary(n.layer(), n.point())));
        return hooked;
    }

    /**
     * Where the tokens of a call stand between two stretches: paused at hook point {@code point}
     * (-1: not started) with the activation there ({@code rows[T][d]}, as the hooks left it) and,
     * at a branch output, the residual stream ({@code resid[T][d]}).
     */
    private record Paused(int point, float[] rows, float[][] resid) {
        static final Paused NOT_STARTED = new Paused(-1, null, null);
    }

    /**
     * Runs token {@code t} from where it was paused through the segments before {@code to}
     * (exclusive); returns the last graph executed, whose buffers hold its activations there.
     */
    private Stage resume(int t, int token, int pos, int slot, float[] rope, Paused paused, int from, int to) {
        for (Stage stage : stages) {
            stage.control.set(TOKEN, token);
            stage.control.set(POS, pos);
            stage.control.set(SLOT, slot);
            MemorySegment.copy(rope, 0, stage.rope.getSegment(), FLOAT, 0, ropeWidth);
            if (paused.point() >= 0 && stage.firstInject <= paused.point() && paused.point() <= stage.lastInject) {
                MemorySegment.copy(paused.rows(), t * d, stage.hostIn.getSegment(), FLOAT, 0, d);
                if (paused.resid() != null) MemorySegment.copy(paused.resid()[t], 0, stage.hostResid.getSegment(), FLOAT, 0, d);
            }
        }
        return run(from, to, paused.point());
    }

    /**
     * Waits until the device has finished {@code last} and everything queued before it. TornadoVM
     * sends inputs without blocking, reading the host arrays when the copy runs, and returns from an
     * execution that brings nothing back before the device is done: the next token's control and
     * rope values must not be written over the previous token's before then. Copying back the
     * graph's residual snapshot ({@code d} floats) waits on the (in-order) queue.
     */
    private void await(Stage last) {
        last.result.transferToHost(last.residOut);
    }

    /** Executes, in order, the graphs with work in segments {@code [from, to)} or the pending injection; returns the last. */
    private Stage run(int from, int to, int inject) {
        Stage last = null;
        for (Stage stage : stages) {
            boolean work = stage.first < to && stage.last >= from;
            boolean injects = inject >= 0 && stage.firstInject <= inject && inject <= stage.lastInject;
            if (work || injects) {
                execute(stage, from, to, inject);
                last = stage;
            }
        }
        return last;
    }

    private void execute(Stage stage, int from, int to, int inject) {
        stage.control.set(FROM, from);
        stage.control.set(TO, to);
        stage.control.set(INJECT, inject);
        stage.result = plan.withGraph(stage.index).execute();
    }

    /** cos then sin of {@code pos * invFreq} per rope, as {@link io.jsteer.transformer.blocks.Rope} computes them. */
    private void ropeAt(int pos, float[] table) {
        for (int r = 0; r < invFreq.length; r++) {
            int half = invFreq[r].length, o = 2 * half * r;
            for (int i = 0; i < half; i++) {
                float angle = pos * invFreq[r][i];
                table[o + i] = (float) Math.cos(angle);
                table[o + half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** Starts the next graph, running segments {@code [first, last]} and injecting at points {@code [firstInject, lastInject]}. */
    private Stage stage(int first, int last, int firstInject, int lastInject) {
        current = new Stage(stages.size(), first, last, firstInject, lastInject);
        uploaded.clear();
        stages.add(current);
        return current;
    }

    /**
     * One task graph of the plan. Each has its own small inputs (control, rope table, hooked
     * activation), sent every execution, and its own work buffers; only the residual stream
     * {@link #x} is shared, passed on from graph to graph on the device.
     */
    private final class Stage {
        final int index, first, last, firstInject, lastInject;
        final String name;
        final IntArray control = new IntArray(CONTROL_SIZE);
        final FloatArray rope = new FloatArray(ropeWidth);
        /** The hooked activation to write back when a token resumes; at a branch output, {@link #hostResid} the stream. */
        final FloatArray hostIn = new FloatArray(d), hostResid = new FloatArray(d);
        final FloatArray attnOut = new FloatArray(d), mlpOut = new FloatArray(d);
        /**
         * The residual stream as this graph left it: the host reads this copy (TornadoVM copies back
         * only buffers a graph owns, not one it consumes), and waits for the device by reading it.
         */
        final FloatArray residOut = new FloatArray(d);
        final FloatArray logits = new FloatArray(config.vocabSize());
        final List<Object> firstExecution = new ArrayList<>();
        final List<TaskAdder> steps = new ArrayList<>();
        TornadoExecutionResult result;

        Stage(int index, int first, int last, int firstInject, int lastInject) {
            this.index = index;
            this.first = first;
            this.last = last;
            this.firstInject = firstInject;
            this.lastInject = lastInject;
            this.name = prefix + index;
        }

        FloatArray hookBuffer(HookPoint point) {
            return switch (point) {
                case ATTN_OUT -> attnOut;
                case MLP_OUT -> mlpOut;
                case RESID_PRE, RESID_MID, RESID_POST -> residOut;
                default -> throw new IllegalStateException("no device buffer for " + point);
            };
        }

        ImmutableTaskGraph build() {
            TaskGraph g = new TaskGraph(name).transferToDevice(DataTransferMode.EVERY_EXECUTION, control, rope, hostIn, hostResid);
            if (index == 0) {
                g.transferToDevice(DataTransferMode.FIRST_EXECUTION, x);
            } else {
                g.consumeFromDevice(x);
            }
            g.transferToDevice(DataTransferMode.FIRST_EXECUTION, attnOut, mlpOut, logits, residOut);
            if (!firstExecution.isEmpty()) g.transferToDevice(DataTransferMode.FIRST_EXECUTION, firstExecution.toArray());
            for (int i = 0; i < steps.size(); i++) steps.get(i).add(g, taskName(index, i));
            return g.persistOnDevice(x, attnOut, mlpOut, logits, residOut).snapshot();
        }
    }

    /** The hook point {@code point} of block {@code layer}, numbered in forward order; the work just before it is segment of the same number. */
    private static int boundary(int layer, HookPoint point) {
        return layer * POINTS + POINTS_ON_DEVICE.indexOf(point);
    }

    /** Adds one task, under the given name, to the graph. */
    @FunctionalInterface
    private interface TaskAdder {
        void add(TaskGraph graph, String task);
    }

    /** A work buffer of the current graph. */
    private FloatArray buffer(int n) {
        FloatArray a = new FloatArray(n);
        current.firstExecution.add(a);
        return a;
    }

    /** A weight of the current graph, widened to F32 (a tied embedding is uploaded by both graphs using it). */
    private FloatArray weight(Tensor t) {
        return uploaded.computeIfAbsent(t, k -> {
            FloatArray a = DeviceMatrix.toFloatArray(t);
            current.firstExecution.add(a);
            return a;
        });
    }

    private FloatArray weight(float[] v) {
        return uploaded.computeIfAbsent(v, k -> {
            FloatArray a = FloatArray.fromArray(v);
            current.firstExecution.add(a);
            return a;
        });
    }

    /**
     * Task names are unique across the plan, not only within their graph: TornadoVM caches compiled
     * kernels per plan under the task's name, and each kernel is specialised on its scalar arguments
     * (segment, layer sizes), so two graphs' same-named tasks would share one graph's kernel.
     */
    private static String taskName(int stage, int task) {
        return "s" + stage + "t" + task;
    }

    /** A task of one thread per element of {@code n}. */
    private void elementwise(int n, TaskAdder adder) {
        add((n + GROUP - 1) / GROUP * GROUP, adder);
    }

    /** A task of {@code count} work-groups. */
    private void groups(int count, TaskAdder adder) {
        add(count * GROUP, adder);
    }

    private void add(int threads, TaskAdder adder) {
        WorkerGrid grid = new WorkerGrid1D(threads);
        grid.setLocalWork(GROUP, 1, 1);
        grids.addWorkerGrid(current.name + "." + taskName(current.index, current.steps.size()), grid);
        current.steps.add(adder);
    }

    private void copy(int segment, FloatArray src, FloatArray dst) {
        IntArray control = current.control;
        elementwise(d, (g, n) -> g.task(n, ForwardKernels::copy, new KernelContext(), control, segment, src, dst, d));
    }

    /** The residual stream of a token resumed at a branch output (attn_out, mlp_out), where it is not the hooked activation. */
    private void injectResid(int point) {
        Stage st = current;
        elementwise(d, (g, n) -> g.task(n, ForwardKernels::inject, new KernelContext(), st.control, point, st.hostResid, x, d));
    }

    private void inject(int point, FloatArray dst) {
        Stage st = current;
        elementwise(d, (g, n) -> g.task(n, ForwardKernels::inject, new KernelContext(), st.control, point, st.hostIn, dst, d));
    }

    private void norm(int segment, Norm norm, FloatArray src, FloatArray dst, int rows) {
        IntArray control = current.control;
        int width = norm.width();
        switch (norm) {
            case Norm.LayerNorm ln -> groups(rows, (g, n) -> g.task(n, ForwardKernels::layerNorm, new KernelContext(), control, segment, src, dst,
                    weight(ln.weight()), weight(ln.bias()), width, ln.eps()));
            case Norm.RmsNorm rms -> groups(rows, (g, n) -> g.task(n, ForwardKernels::rmsNorm, new KernelContext(), control, segment, src, dst,
                    weight(rms.weight()), width, rms.eps(), rms.weightOffset()));
        }
    }

    private void matvec(int segment, Tensor w, float[] bias, FloatArray in, FloatArray out) {
        IntArray control = current.control;
        FloatArray weights = weight(w);
        int rows = w.dim(0), cols = w.dim(1);
        if (bias == null) {
            groups(rows, (g, n) -> g.task(n, ForwardKernels::matvec, new KernelContext(), control, segment, weights, in, out, cols));
        } else {
            FloatArray b = weight(bias);
            groups(rows, (g, n) -> g.task(n, ForwardKernels::matvecBias, new KernelContext(), control, segment, weights, in, b, out, cols));
        }
    }

    /**
     * The device KV cache slots and the sequences holding them. A sequence keeps its slot while it
     * is used; a new one (length 0) takes a free slot or the least recently used one. A sequence
     * whose slot was taken cannot continue (its keys and values are gone) until it is reset.
     */
    private static final class Sequences {
        private final java.lang.ref.WeakReference<?>[] owners;
        private final long[] lastUse;
        private long clock;

        Sequences(int slots) {
            owners = new java.lang.ref.WeakReference<?>[slots];
            lastUse = new long[slots];
        }

        int size() {
            return owners.length;
        }

        int slotFor(State state) {
            int chosen = -1;
            for (int i = 0; i < owners.length; i++) {
                if (owners[i] != null && owners[i].get() == state) chosen = i;
            }
            if (chosen < 0) {
                if (state.length() != 0) {
                    throw new IllegalStateException("this sequence's KV cache was evicted from the device by newer sequences ("
                            + owners.length + " fit: -D" + SEQUENCES_PROPERTY + "=N); reset the state and feed its tokens again");
                }
                chosen = 0;
                for (int i = 0; i < owners.length; i++) {
                    if (owners[i] == null || owners[i].get() == null) {
                        chosen = i;
                        break;
                    }
                    if (lastUse[i] < lastUse[chosen]) chosen = i;
                }
                owners[chosen] = new java.lang.ref.WeakReference<>(state);
            }
            lastUse[chosen] = ++clock;
            return chosen;
        }
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("freeing the device memory of a model", e);
        }
    }
}
