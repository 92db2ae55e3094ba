/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The hooks attached to one inference state. Several hooks may share a point; they run in the
 * order added, each seeing the previous one's changes, so steering vectors compose by addition.
 * With nothing attached the forward pass does one array read per hook point and nothing else; the
 * points whose values exist only for hooks (attention scores and pattern, the full final norm) are
 * then not computed at all.
 *
 * <pre>{@code
 * State state = model.newState();
 * try (Hooks.Handle h = state.hooks().add(new HookName(3, HookPoint.RESID_POST),
 *         (ctx, x) -> System.out.println(ctx.name() + " rows " + ctx.tokens() + " x " + ctx.width()))) {
 *     model.forward(state, tokens, false);
 * }                                               // detached here
 * }</pre>
 */
public final class Hooks {
    private static final int POINTS = HookPoint.values().length;
    private final int layers;
    private final boolean hasResidMid, gatedMlp;
    /** One list per (block, point), then one for {@code ln_final.hook_normalized}; null where nothing is attached. */
    private final List<Hook>[] byPoint;
    /** How many lists are non-null, so that a state with no hooks at all is told apart in one read. */
    private int attachedPoints;
    /** The open {@link #recomputeEachToken} requests, one token object each. */
    private final List<Object> recomputeRequests = new ArrayList<>();

    /** Hooks for a model of {@code layers} blocks; {@code hasResidMid} is false for parallel-residual blocks. The MLP is taken as gated. */
    public Hooks(int layers, boolean hasResidMid) {
        this(layers, hasResidMid, true);
    }

    /**
     * Hooks for a model of {@code layers} blocks.
     *
     * @param layers      the blocks
     * @param hasResidMid false for parallel-residual blocks, which have no {@code hook_resid_mid}
     * @param gatedMlp    whether the MLP is gated, the only kind with {@code mlp.hook_pre_linear}
     */
    @SuppressWarnings("unchecked")
    public Hooks(int layers, boolean hasResidMid, boolean gatedMlp) {
        this.layers = layers;
        this.hasResidMid = hasResidMid;
        this.gatedMlp = gatedMlp;
        this.byPoint = new List[layers * POINTS + 1];
    }

    private int index(HookName name) {
        if (name.point() == HookPoint.LN_FINAL) return layers * POINTS;
        if (name.layer() >= layers) {
            throw new IllegalArgumentException("layer " + name.layer() + " is out of range: the model has layers 0.." + (layers - 1));
        }
        if (name.point() == HookPoint.RESID_MID && !hasResidMid) {
            throw new IllegalArgumentException(name + " does not exist: this model's blocks use a parallel residual (attention and MLP both read resid_pre)");
        }
        if (name.point() == HookPoint.MLP_PRE_LINEAR && !gatedMlp) {
            throw new IllegalArgumentException(name + " does not exist: this model's MLP is not gated (mlp.hook_pre is the input of its activation)");
        }
        return name.layer() * POINTS + name.point().ordinal();
    }

    /** Attaches {@code hook} at {@code name}; the returned handle removes it. */
    public Handle add(HookName name, Hook hook) {
        int i = index(name);
        if (byPoint[i] == null) {
            byPoint[i] = new ArrayList<>();
            attachedPoints++;
        }
        byPoint[i].add(hook);
        return () -> {
            List<Hook> list = byPoint[i];
            if (list != null) {
                list.remove(hook);
                if (list.isEmpty()) {
                    byPoint[i] = null;
                    attachedPoints--;
                }
            }
        };
    }

    /**
     * Attaches at {@code name} a hook that is handed the activations as an {@link ActivationView}:
     * their shape, the position of each row, and reads and writes by row. The returned handle
     * removes it.
     *
     * <pre>{@code
     * try (Hooks.Handle h = state.hooks().add(name, a -> {
     *     for (int r = 0; r < a.rows(); r++) a.add(r, direction, 4.0);
     * })) {
     *     generator.generate(state, request);
     * }
     * }</pre>
     */
    public Handle add(HookName name, Consumer<ActivationView> hook) {
        if (hook == null) throw new IllegalArgumentException("no hook to attach at " + name);
        if (name.point().layout() == HookPoint.Layout.PATTERN) {
            throw new IllegalArgumentException(name + " is [head][query][key], not a row per token: attach a Hook (ctx, x) -> ... there");
        }
        return add(name, (Hook) (ctx, x) -> hook.accept(new ActivationView(ctx, x)));
    }

    /** Removes every hook, and every {@link #recomputeEachToken} request. */
    public void clear() {
        java.util.Arrays.fill(byPoint, null);
        attachedPoints = 0;
        recomputeRequests.clear();
    }

    /**
     * Asks decoding not to reuse the KV cache: {@link io.jsteer.transformer.generate.Generator} and
     * {@link io.jsteer.transformer.batch.Engine} then run the whole sequence again from position 0
     * (prompt and every token chosen so far, in one call) for each new token, as Hugging Face's
     * {@code generate(use_cache=False)} does. For hooks whose change to earlier positions depends on
     * later ones (SARA's {@code recompute} mode): with the cache, earlier positions keep the keys and
     * values of the step that made them. Costs a prefill of the whole sequence per token. The prompt
     * length hooks see stays the prompt's ({@link io.jsteer.transformer.State#restart}).
     *
     * @return the handle that withdraws this request
     */
    public Handle recomputeEachToken() {
        Object token = new Object();
        recomputeRequests.add(token);
        return () -> recomputeRequests.remove(token);
    }

    /** @return whether a {@link #recomputeEachToken} request is open */
    public boolean recomputesEachToken() {
        return !recomputeRequests.isEmpty();
    }

    /**
     * Whether any hook is attached at {@code layer}/{@code point}.
     *
     * @param layer the block (ignored for {@link HookPoint#LN_FINAL})
     * @param point the point
     * @return whether {@link #run} would call anything there
     */
    public boolean active(int layer, HookPoint point) {
        return byPoint[point == HookPoint.LN_FINAL ? layers * POINTS : layer * POINTS + point.ordinal()] != null;
    }

    /** @return whether any hook is attached anywhere */
    public boolean any() {
        return attachedPoints > 0;
    }

    /** @return the points with hooks attached, blocks in order and {@code ln_final.hook_normalized} last */
    public List<HookName> attached() {
        List<HookName> out = new ArrayList<>();
        if (attachedPoints == 0) return out;
        for (int i = 0; i < byPoint.length; i++) {
            if (byPoint[i] == null) continue;
            out.add(i == layers * POINTS ? HookName.LN_FINAL : new HookName(i / POINTS, HookPoint.values()[i % POINTS]));
        }
        return out;
    }

    /** Runs the hooks at the context's point over {@code x}. */
    public void run(HookContext ctx, float[] x) {
        List<Hook> list = byPoint[index(ctx.name())];
        if (list == null) return;
        for (Hook h : List.copyOf(list)) h.apply(ctx, x);
    }

    /**
     * @return every point hooks may be attached at, in the order a forward pass reaches them
     *     (within a block, {@link HookPoint}'s order), {@code ln_final.hook_normalized} last
     */
    public List<HookName> points() {
        List<HookName> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (HookPoint p : HookPoint.values()) {
                if (p == HookPoint.LN_FINAL || p == HookPoint.RESID_MID && !hasResidMid || p == HookPoint.MLP_PRE_LINEAR && !gatedMlp) continue;
                out.add(new HookName(l, p));
            }
        }
        out.add(HookName.LN_FINAL);
        return out;
    }

    /** Number of blocks this registry covers. */
    public int layers() {
        return layers;
    }

    /** Detaches a hook. */
    @FunctionalInterface
    public interface Handle extends AutoCloseable {
        @Override
        void close();
    }
}
