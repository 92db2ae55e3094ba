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
 * With nothing attached the forward pass does one array read per hook point and nothing else.
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
    private final int layers;
    private final boolean hasResidMid;
    private final List<Hook>[] byPoint;

    /** Hooks for a model of {@code layers} blocks; {@code hasResidMid} is false for parallel-residual blocks. */
    @SuppressWarnings("unchecked")
    public Hooks(int layers, boolean hasResidMid) {
        this.layers = layers;
        this.hasResidMid = hasResidMid;
        this.byPoint = new List[layers * HookPoint.values().length];
    }

    private int index(HookName name) {
        if (name.layer() >= layers) {
            throw new IllegalArgumentException("layer " + name.layer() + " is out of range: the model has layers 0.." + (layers - 1));
        }
        if (name.point() == HookPoint.RESID_MID && !hasResidMid) {
            throw new IllegalArgumentException(name + " does not exist: this model's blocks use a parallel residual (attention and MLP both read resid_pre)");
        }
        return name.layer() * HookPoint.values().length + name.point().ordinal();
    }

    /** Attaches {@code hook} at {@code name}; the returned handle removes it. */
    public Handle add(HookName name, Hook hook) {
        int i = index(name);
        if (byPoint[i] == null) byPoint[i] = new ArrayList<>();
        byPoint[i].add(hook);
        return () -> {
            List<Hook> list = byPoint[i];
            if (list != null) {
                list.remove(hook);
                if (list.isEmpty()) byPoint[i] = null;
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
        return add(name, (Hook) (ctx, x) -> hook.accept(new ActivationView(ctx, x)));
    }

    /** Removes every hook. */
    public void clear() {
        java.util.Arrays.fill(byPoint, null);
    }

    /** Whether any hook is attached at {@code layer}/{@code point}. */
    public boolean active(int layer, HookPoint point) {
        return byPoint[layer * HookPoint.values().length + point.ordinal()] != null;
    }

    /** Runs the hooks at the context's point over {@code x}. */
    public void run(HookContext ctx, float[] x) {
        List<Hook> list = byPoint[index(ctx.name())];
        if (list == null) return;
        for (Hook h : List.copyOf(list)) h.apply(ctx, x);
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
