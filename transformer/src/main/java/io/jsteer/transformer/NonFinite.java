/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stops NaN and infinity from passing silently. Every forward pass checks its logits, the only
 * cheap place: one subtraction per logit, {@code x - x} being 0 for a finite {@code x} and NaN
 * otherwise. Non-finite weights, an overflowing activation or a steering vector scaled too far all
 * end there, since NaN and infinity propagate through every later layer. Only when the check
 * fails is the same call run again from the same cached prefix with a checking hook at every hook
 * point, to name where the values first appeared.
 */
final class NonFinite {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Set while a failed call is run again to locate the fault, so that run does not locate again. */
    private static final ThreadLocal<Boolean> LOCATING = ThreadLocal.withInitial(() -> false);

    private NonFinite() {}

    /**
     * The step's outcome: its logits when all are finite; otherwise the first non-finite
     * activation of the call that just appended its tokens is located, its state taken back to
     * its length before the call and a {@link NonFiniteException} naming the place is its failure.
     * Steps are checked one by one: one step's failure leaves the others' logits as they are.
     */
    static Model.Outcome check(Model model, Model.Step step, float[] logits) {
        return allFinite(logits, 0, logits.length) ? new Model.Outcome(logits, null)
                : new Model.Outcome(null, fail(model, step.state(), step.tokens()));
    }

    private static NonFiniteException fail(Model model, State s, int[] tokens) {
        if (LOCATING.get()) throw new Found(null, -1);
        int before = s.length() - tokens.length;
        s.truncate(before);
        Found found = locate(model, s, tokens);
        s.truncate(before);
        String where = found == null
                ? "but not again when the call was repeated to locate them (a hook with side effects?)"
                : found.hook == null ? "in the final norm or the unembedding (lm_head); the residual stream was finite"
                : "first at " + found.hook + " (position " + found.position + (found.steered ? ", after the hooks attached there" : "")
                + (found.hook.layer() == 0 && found.hook.point() == HookPoint.RESID_PRE ? ", the token embeddings" : "") + ")";
        return new NonFiniteException("the forward pass produced non-finite values (NaN or infinity) " + where
                + "; the checkpoint may hold NaN/Inf weights (jsteer check -m DIR scans them) or a steering coefficient may be too large",
                found == null ? null : found.hook, found == null ? -1 : found.position);
    }

    /** Runs the call again with a checking hook at every point; null when it stays finite. */
    private static Found locate(Model model, State s, int[] tokens) {
        Hooks hooks = s.hooks();
        List<Hooks.Handle> handles = new ArrayList<>();
        LOCATING.set(true);
        try {
            for (int l = 0; l < model.config().numLayers(); l++) {
                for (HookPoint p : HookPoint.residualStream()) {
                    if (p == HookPoint.RESID_MID && model.config().parallelResidual()) continue;
                    HookName name = new HookName(l, p);
                    boolean steered = hooks.active(l, p);
                    handles.add(hooks.add(name, (ctx, x) -> {
                        int bad = firstNonFinite(x);
                        if (bad >= 0) throw new Found(name, ctx.position(bad / ctx.width()), steered);
                    }));
                }
            }
            model.forward(s, tokens, false);
            return null;
        } catch (Found f) {
            return f;
        } finally {
            LOCATING.set(false);
            handles.forEach(Hooks.Handle::close);
        }
    }

    /** Whether {@code a[from..to)} holds only finite values. */
    static boolean allFinite(float[] a, int from, int to) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = from;
        for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
            FloatVector v = FloatVector.fromArray(SPECIES, a, i);
            acc = acc.add(v.sub(v));
        }
        float tail = 0;
        for (; i < to; i++) tail += a[i] - a[i];
        return acc.reduceLanes(VectorOperators.ADD) + tail == 0;
    }

    private static int firstNonFinite(float[] x) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) return i;
        }
        return -1;
    }

    /** Unwinds the repeated call from the hook that saw the first non-finite value. */
    private static final class Found extends RuntimeException {
        final transient HookName hook;
        final int position;
        final boolean steered;

        Found(HookName hook, int position) {
            this(hook, position, false);
        }

        Found(HookName hook, int position, boolean steered) {
            super(null, null, false, false);
            this.hook = hook;
            this.position = position;
            this.steered = steered;
        }
    }
}
