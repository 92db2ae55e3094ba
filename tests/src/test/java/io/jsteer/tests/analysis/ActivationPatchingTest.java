/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.analysis.ActivationPatching;
import io.jsteer.steering.analysis.ActivationPatching.Patch;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Activation patching on the fixtures, checked on results known exactly: patching the whole
 * residual stream at a layer makes the corrupted run the clean one from there on, the embedding
 * of the one token that differs is all the difference at layer 0, the last block's output at the
 * last position is all that the last logits read, and batched runs give the one-by-one bits.
 */
class ActivationPatchingTest {
    static final int[] CLEAN = {5, 17, 42, 99, 7, 63, 12};
    /** {@link #CLEAN} with position {@link #CHANGED} replaced. */
    static final int[] CORRUPT = {5, 17, 42, 250, 7, 63, 12};
    static final int CHANGED = 3;

    static Stream<String> models() {
        return Stream.of("pythia-tiny-parallel", "pythia-tiny-sequential", "gemma2-tiny", "llama3-tiny");
    }

    /** The answers: the clean run's top token against the corrupted run's top other token. */
    static ActivationPatching patching(Model model) {
        int V = model.config().vocabSize();
        float[] c = model.forward(model.newState(), CLEAN, false), k = model.forward(model.newState(), CORRUPT, false);
        int a = argmax(c, -1), b = argmax(k, a);
        assertTrue(a < V && b < V);
        return new ActivationPatching(model, CLEAN, CORRUPT, a, b);
    }

    @ParameterizedTest
    @MethodSource("models")
    void knownResultsHoldExactly(String name) {
        Model model = Model.load(Fixtures.dir(name));
        ActivationPatching p = patching(model);
        int L = model.config().numLayers(), T = CLEAN.length;
        assertNotEquals(p.cleanDifference(), p.corruptDifference(), "the corruption changes the metric");

        // the whole stream at any layer (all positions): the clean run from there on
        List<Patch> whole = new ArrayList<>();
        for (int l = 0; l < L; l++) {
            whole.add(Patch.all(new HookName(l, HookPoint.RESID_PRE)));
            whole.add(Patch.all(new HookName(l, HookPoint.RESID_POST)));
        }
        for (double m : p.run(whole)) assertEquals(p.cleanDifference(), m, 0.0, name + ": whole stream patched");

        double[][] pre = p.residual(HookPoint.RESID_PRE);
        double[][] post = p.residual(HookPoint.RESID_POST);
        for (int t = 0; t < T; t++) {
            // layer 0's input is the embedding: only the changed token differs, and patching it is the clean run
            assertEquals(t == CHANGED ? p.cleanDifference() : p.corruptDifference(), pre[0][t], 0.0, name + " resid_pre 0 position " + t);
            // the last logits read only the last position of the last block's output
            assertEquals(t == T - 1 ? p.cleanDifference() : p.corruptDifference(), post[L - 1][t], 0.0, name + " resid_post last position " + t);
            // causal attention: positions before the change carry the same stream in both runs
            for (int l = 0; l < L; l++) {
                if (t < CHANGED) assertEquals(p.corruptDifference(), pre[l][t], 0.0, name + " before the change");
            }
        }
        // patching nothing: the corrupted run
        assertEquals(0, p.run(List.of()).length);
        assertEquals(p.corruptDifference(), p.run(List.of(new Patch(new HookName(0, HookPoint.RESID_PRE), 0)))[0], 0.0);
    }

    @Test
    void batchedRunsGiveTheOneByOneBits() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-sequential"));
        ActivationPatching p = patching(model);
        double[][] batched = ScopedValue.where(BatchSize.SEQUENCES, 16).call(() -> p.residual(HookPoint.RESID_MID));
        double[][] single = ScopedValue.where(BatchSize.SEQUENCES, 1).call(() -> p.residual(HookPoint.RESID_MID));
        int a = answer(model, CLEAN, -1), b = answer(model, CORRUPT, a);
        for (int l = 0; l < model.config().numLayers(); l++) {
            assertArrayEquals(single[l], batched[l], 0.0, "layer " + l);
            // and by hand: the clean stream recorded, written into a plain forward pass of the corrupted prompt
            for (int t = 0; t < CLEAN.length; t++) {
                HookName at = new HookName(l, HookPoint.RESID_MID);
                float[][] clean = new float[1][];
                State s = model.newState();
                s.hooks().add(at, (ctx, x) -> clean[0] = x.clone());
                model.forward(s, CLEAN, false);
                State c = model.newState();
                int pos = t, d = model.config().hiddenSize();
                c.hooks().add(at, (ctx, x) -> System.arraycopy(clean[0], pos * d, x, pos * d, d));
                float[] logits = model.forward(c, CORRUPT, false);
                assertEquals((double) logits[a] - logits[b], batched[l][t], 0.0, "layer " + l + " position " + t);
            }
        }
    }

    /**
     * Every head's {@code attn.hook_z} patched at once is the clean attention output (the output
     * projection is the same product of the same values), and one head alone is what a hand-made
     * hook copying that head's slice gives.
     */
    @ParameterizedTest
    @MethodSource("models")
    void headPatchesAreZSlices(String name) {
        Model model = Model.load(Fixtures.dir(name));
        ActivationPatching p = patching(model);
        int L = model.config().numLayers(), H = model.config().numHeads(), hd = model.config().headDim();
        List<Patch> pairs = new ArrayList<>();
        for (int l = 0; l < L; l++) {
            pairs.add(Patch.all(new HookName(l, HookPoint.Z)));
            pairs.add(Patch.all(new HookName(l, HookPoint.ATTN_OUT)));
        }
        double[] m = p.run(pairs);
        for (int l = 0; l < L; l++) assertEquals(m[2 * l + 1], m[2 * l], 0.0, name + " block " + l + ": all of z is the attention output");

        double[][] heads = p.heads(HookPoint.Z);
        int a = answer(model, CLEAN, -1), b = answer(model, CORRUPT, a);
        boolean someHeadMatters = false;
        for (int l = 0; l < L; l++) {
            HookName at = new HookName(l, HookPoint.Z);
            float[][] clean = new float[1][];
            State s = model.newState();
            s.hooks().add(at, (ctx, x) -> clean[0] = x.clone());
            model.forward(s, CLEAN, false);
            for (int h = 0; h < H; h++) {
                int head = h;
                State c = model.newState();
                c.hooks().add(at, (ctx, x) -> {
                    for (int t = 0; t < ctx.tokens(); t++) System.arraycopy(clean[0], t * H * hd + head * hd, x, t * H * hd + head * hd, hd);
                });
                float[] logits = model.forward(c, CORRUPT, false);
                assertEquals((double) logits[a] - logits[b], heads[l][h], 0.0, name + " block " + l + " head " + h);
                someHeadMatters |= heads[l][h] != p.corruptDifference();
            }
        }
        assertTrue(someHeadMatters, "some head's patch changes the metric");
        assertThrows(IllegalArgumentException.class, () -> new Patch(new HookName(0, HookPoint.RESID_PRE), 0, 1), "resid_pre has no heads");
        assertThrows(IllegalArgumentException.class, () -> p.run(List.of(new Patch(new HookName(0, HookPoint.Z), 0, H))));
        assertThrows(IllegalArgumentException.class, () -> p.residual(HookPoint.PATTERN));
    }

    @Test
    void refusesPromptsOfDifferentLengths() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ActivationPatching(model, new int[] {1, 2, 3}, new int[] {1, 2}, 4, 5));
        assertTrue(e.getMessage().contains("3 tokens") && e.getMessage().contains("same number of tokens"), e.getMessage());
        ActivationPatching p = new ActivationPatching(model, new int[] {1, 2}, new int[] {1, 3}, 4, 5);
        assertThrows(IllegalArgumentException.class, () -> p.run(List.of(new Patch(new HookName(0, HookPoint.RESID_PRE), 2))));
        assertThrows(IllegalArgumentException.class, () -> p.run(List.of(new Patch(new HookName(9, HookPoint.RESID_PRE), 0))));
    }

    private static int answer(Model model, int[] ids, int not) {
        return argmax(model.forward(model.newState(), ids, false), not);
    }

    private static int argmax(float[] x, int not) {
        int best = -1;
        for (int i = 0; i < x.length; i++) if (i != not && (best < 0 || x[i] > x[best])) best = i;
        return best;
    }
}
