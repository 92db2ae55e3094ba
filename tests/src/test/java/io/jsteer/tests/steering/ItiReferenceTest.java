/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.iti.HeadShifts;
import io.jsteer.steering.iti.Iti;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Iti} against an independent computation: {@code fixtures/<model>/iti.json}, made by
 * {@code generator/make_iti_reference.py} with numpy (its own Newton solver for the probes) on the
 * z activations Hugging Face computes (a pre-hook on the output projection), and steered logits
 * and a KV-cached {@code generate()} from HF with the shift added by a pre-hook; and the method's
 * defining properties (only the chosen heads' z move, by alpha * std * direction, at the newest
 * token).
 */
class ItiReferenceTest {
    /** Steered logits against HF's, relative to their scale: the bound of the unsteered logits (ForwardReferenceTest). */
    static final float TOLERANCE = 2e-6f;

    static Stream<String> models() {
        return Stream.of("llama3-tiny", "pythia-tiny-parallel");
    }

    record Fitted(Model model, JsonNode ref, HeadShifts iti) {
        static Fitted of(String name) {
            Model model = Model.load(Fixtures.dir(name));
            JsonNode ref = Fixtures.json(name, "iti.json");
            ContrastSet data = new ContrastSet(Fixtures.intLists(ref.get("positive")), Fixtures.intLists(ref.get("negative")));
            Iti method = new Iti(ref.get("k").asInt(), ref.get("alpha").asDouble(), ref.get("val").asDouble(), -1, Readout.last(), PositionRule.newest());
            return new Fitted(model, ref, method.fit(model, data));
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void probesHeadsDirectionsAndStdsMatchTheNumpyReference(String name) {
        Fitted f = Fitted.of(name);
        // every head's held-out accuracy (multiples of 1/8: 4 of 20 prompts per class held out)
        List<String> want = new ArrayList<>(), got = new ArrayList<>();
        for (JsonNode h : f.ref.get("heads")) want.add(h.get("layer").asInt() + "." + h.get("head").asInt() + "=" + h.get("accuracy").asDouble());
        for (HeadShifts.Rank r : f.iti.ranking()) got.add(r.layer() + "." + r.head() + "=" + r.accuracy());
        want.sort(null);
        assertEquals(want, got.stream().sorted().toList(), name + ": held-out accuracy of every head");
        List<HeadShifts.Shift> shifts = f.iti.shifts();
        JsonNode chosen = f.ref.get("chosen");
        assertEquals(chosen.size(), shifts.size());
        double worstDir = 0, worstStd = 0;
        for (int i = 0; i < shifts.size(); i++) {
            JsonNode c = chosen.get(i);
            HeadShifts.Shift s = shifts.get(i);
            assertEquals(c.get("layer").asInt() + "." + c.get("head").asInt(), s.layer() + "." + s.head(), name + ": head ranked " + i);
            float[] dir = Fixtures.floats(c.get("direction"));
            worstDir = Math.max(worstDir, Fixtures.maxAbsDiff(dir, s.direction()));
            worstStd = Math.max(worstStd, Math.abs(s.std() - c.get("std").asDouble()) / c.get("std").asDouble());
        }
        System.out.printf("%s ITI: direction error %.3g (unit vectors), std error %.3g relative%n", name, worstDir, worstStd);
        assertTrue(worstDir <= 1e-6, name + ": direction error " + worstDir);
        assertTrue(worstStd <= 1e-6, name + ": std error " + worstStd);
    }

    @ParameterizedTest
    @MethodSource("models")
    void steeredLogitsAndGenerationMatchHuggingFace(String name) {
        Fitted f = Fitted.of(name);
        int[] ids = Fixtures.ints(f.ref.get("eval_ids"));
        State s = f.model.newState();
        float[] logits;
        try (Hooks.Handle h = f.iti.attach(s)) {
            logits = f.model.forward(s, ids, true);
        }
        float[] want = Fixtures.floats(f.ref.get("steered_logits")), plain = Fixtures.floats(f.ref.get("plain_logits"));
        float err = Fixtures.maxAbsDiff(logits, want) / Math.max(1, Fixtures.maxAbs(want));
        System.out.printf("%s ITI: steered logits error %.3g of scale (steering moved them by %.3g)%n", name, err, Fixtures.maxAbsDiff(want, plain));
        assertTrue(err <= TOLERANCE, name + ": steered logits error " + err);
        assertTrue(Fixtures.maxAbsDiff(want, plain) > 0.1, name + ": the reference steering changes the logits");

        int[] generated = new int[f.ref.get("steered_generation").size()];
        State g = f.model.newState();
        try (Hooks.Handle h = f.iti.attach(g)) {
            float[] l = f.model.forward(g, ids, false);
            for (int i = 0; i < generated.length; i++) {
                generated[i] = argmax(l);
                l = f.model.forward(g, new int[] {generated[i]}, false);
            }
        }
        assertArrayEquals(Fixtures.ints(f.ref.get("steered_generation")), generated, name + ": greedy generation with the KV cache under ITI");
    }

    @Test
    void onlyTheChosenHeadsMoveByAlphaStdDirectionAtTheNewestToken() {
        Fitted f = Fitted.of("llama3-tiny");
        Model model = f.model;
        int H = model.config().numHeads(), hd = model.config().headDim();
        int[] ids = Fixtures.ints(f.ref.get("eval_ids"));
        // z after ITI's hook (attached first), against z of an unsteered run, every block
        State steered = model.newState(), plain = model.newState();
        f.iti.attach(steered);
        List<float[]> after = new ArrayList<>(), before = new ArrayList<>();
        for (int l = 0; l < model.config().numLayers(); l++) {
            steered.hooks().add(new HookName(l, HookPoint.Z), (ctx, x) -> after.add(x.clone()));
            plain.hooks().add(new HookName(l, HookPoint.Z), (ctx, x) -> before.add(x.clone()));
        }
        // blocks above a shifted head see a changed input, so compare block by block: run the
        // unsteered pass with ITI's shift re-applied by hand, block after block
        model.forward(steered, ids, false);
        State byHand = model.newState();
        for (HeadShifts.Shift s : f.iti.shifts()) {
            byHand.hooks().add(new HookName(s.layer(), HookPoint.Z), (ctx, x) -> {
                float[] dir = s.direction();
                int off = (ctx.tokens() - 1) * ctx.width() + s.head() * hd;
                for (int i = 0; i < hd; i++) x[off + i] += (float) (f.iti.alpha() * s.std() * dir[i]);
            });
        }
        List<float[]> expected = new ArrayList<>();
        for (int l = 0; l < model.config().numLayers(); l++) byHand.hooks().add(new HookName(l, HookPoint.Z), (ctx, x) -> expected.add(x.clone()));
        model.forward(byHand, ids, false);
        for (int l = 0; l < after.size(); l++) assertArrayEquals(expected.get(l), after.get(l), "block " + l + ": z under ITI");
        // the first shifted block: before it, nothing moved; in it, only the chosen heads' last row
        int first = f.iti.shifts().stream().mapToInt(HeadShifts.Shift::layer).min().orElseThrow();
        model.forward(plain, ids, false);
        for (int l = 0; l < first; l++) assertArrayEquals(before.get(l), after.get(l), "block " + l + " precedes every shifted head");
        int last = ids.length - 1;
        for (int h = 0; h < H; h++) {
            int head = h;
            boolean chosen = f.iti.shifts().stream().anyMatch(s -> s.layer() == first && s.head() == head);
            for (int t = 0; t < ids.length; t++) {
                for (int i = 0; i < hd; i++) {
                    int at = t * H * hd + h * hd + i;
                    if (!(chosen && t == last)) assertEquals(before.get(first)[at], after.get(first)[at], "block " + first + " head " + h + " row " + t);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Iti(17, 1).fit(model,
                new ContrastSet(Fixtures.intLists(f.ref.get("positive")), Fixtures.intLists(f.ref.get("negative")))));
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
