/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.Intervention;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;

/** Fixture access and comparison helpers for the steering tests. */
final class SteeringFixtures {
    private SteeringFixtures() {}

    static final String PYTHIA = "pythia-tiny-parallel";

    /** Asserts {@code max |actual - expected| <= tol * max(1, max |expected|)}. */
    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertTrue(expected.length == actual.length, what + ": length " + actual.length + " != " + expected.length);
        double err = 0;
        for (int i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(expected[i] - actual[i]));
        double scale = Math.max(1, Fixtures.maxAbs(expected));
        System.out.printf("%s: max abs err %.3g (scale %.3g)%n", what, err, scale);
        assertTrue(err <= tol * scale, what + ": max abs error " + err + " exceeds " + tol + " x " + scale);
    }

    static float[] scaled(float[] v, double c) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) out[i] = (float) (c * out[i]);
        return out;
    }

    static int argmax(float[] logits, int from, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[from + i] > logits[from + best]) best = i;
        return best;
    }

    /** All-position logits of {@code ids} with {@code steering} attached (null: none). */
    static float[] logits(Model model, Intervention steering, int[] ids) {
        State s = model.newState();
        Hooks.Handle h = steering == null ? null : steering.attach(s);
        try {
            return model.forward(s, ids, true);
        } finally {
            if (h != null) h.close();
        }
    }

    /** Greedy continuation using the KV cache: one prefill call, then one call per generated token. */
    static int[] greedyCached(Model model, Intervention steering, int[] prompt, int n) {
        int vocab = model.config().vocabSize();
        State s = model.newState();
        if (steering != null) steering.attach(s);
        float[] logits = model.forward(s, prompt, false);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = argmax(logits, 0, vocab);
            logits = model.forward(s, new int[] {out[i]}, false);
        }
        return out;
    }

    /** Greedy continuation recomputing the whole sequence on a fresh state every step. */
    static int[] greedyUncached(Model model, Intervention steering, int[] prompt, int n) {
        int vocab = model.config().vocabSize();
        int[] seq = prompt;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            State s = model.newState();
            if (steering != null) steering.attach(s);
            out[i] = argmax(model.forward(s, seq, false), 0, vocab);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = out[i];
        }
        return out;
    }
}
