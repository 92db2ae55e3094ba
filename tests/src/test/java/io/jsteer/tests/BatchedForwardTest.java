/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.generate.Generation;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import io.jsteer.transformer.kernels.MatMul;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batched forward passes against the same sequences run alone, on every fixture. The design
 * says a sequence's results do not depend on what shares its batch: the products give a row the
 * same bits whatever else is in the call, attention and hooks are per sequence. So logits,
 * tokens and what each hook sees are compared for exact equality, not within a tolerance.
 */
class BatchedForwardTest {
    /**
     * A scripted sequence: a prompt, then fixed tokens fed one by one (teacher forcing), with
     * optional hooks; records every step's logits and every hook call it sees.
     */
    static class Script implements Job {
        final int[] prompt;
        final int[] then;
        final Function<State, Hooks.Handle> hooks;
        final List<float[]> logits = new ArrayList<>();
        final List<String> seen;
        Hooks.Handle handle;
        Exception failure;

        /** {@code seen} is where {@code hooks} record what they are shown. */
        Script(int[] prompt, int[] then, Function<State, Hooks.Handle> hooks, List<String> seen) {
            this.prompt = prompt;
            this.then = then;
            this.hooks = hooks;
            this.seen = seen;
        }

        @Override
        public int[] prompt() {
            return prompt;
        }

        @Override
        public void start(State state) {
            if (hooks != null) handle = hooks.apply(state);
        }

        @Override
        public int next(float[] l) {
            logits.add(l.clone());
            int step = logits.size() - 1;
            return step < then.length ? then[step] : END;
        }

        @Override
        public void end(Exception failure) {
            this.failure = failure;
            if (handle != null) handle.close();
        }

        /** The same script on a state of its own, one forward call per step. */
        List<float[]> alone(Model model) {
            State s = model.newState();
            Hooks.Handle h = hooks == null ? null : hooks.apply(s);
            List<float[]> out = new ArrayList<>();
            out.add(model.forward(s, prompt, false));
            for (int t : then) out.add(model.forward(s, new int[] {t}, false));
            if (h != null) h.close();
            return out;
        }
    }

    /**
     * Hooks of sequence {@code i}: at every point a record of what it is shown, and for some
     * sequences an edit that depends on the sequence (a vector added at chosen positions), so
     * mixed steering shares a batch with unsteered sequences.
     */
    static Function<State, Hooks.Handle> hooks(Model model, int i, List<String> seen) {
        int layers = model.config().numLayers(), d = model.config().hiddenSize();
        float[] vector = new float[d];
        Random r = new Random(100 + i);
        for (int k = 0; k < d; k++) vector[k] = (float) (r.nextDouble() * 2 - 1);
        float coeff = i % 3 == 0 ? 0 : i % 3 == 1 ? 2.5f : -4f;
        int layer = i % layers, head = i % model.config().numHeads();
        return state -> {
            List<Hooks.Handle> handles = new ArrayList<>();
            for (HookName point : state.hooks().points()) handles.add(state.hooks().add(point, (ctx, x) -> seen.add(describe(ctx, x))));
            if (coeff != 0) {
                // inside the block: one head's z scaled at odd positions, the pattern of the
                // call's last query row moved onto the first key, a few MLP neurons halved
                handles.add(state.hooks().add(new HookName(layer, HookPoint.Z), (ctx, x) -> {
                    for (int t = 0; t < ctx.tokens(); t++) {
                        if (ctx.position(t) % 2 == 0) continue;
                        for (int k = 0; k < ctx.headDim(); k++) x[t * ctx.width() + head * ctx.headDim() + k] *= coeff;
                    }
                }));
                handles.add(state.hooks().add(new HookName((layer + 1) % layers, HookPoint.PATTERN), (ctx, x) -> {
                    int row = (head * ctx.tokens() + ctx.tokens() - 1) * ctx.width();
                    for (int k = 0; k < ctx.width(); k++) x[row + k] *= 0.5f;
                    x[row] += 0.5f;
                }));
                handles.add(state.hooks().add(new HookName(layer, HookPoint.MLP_POST), (ctx, x) -> {
                    for (int t = 0; t < ctx.tokens(); t++) for (int k = 0; k < 4; k++) x[t * ctx.width() + k] *= 0.5f;
                }));
                handles.add(state.hooks().add(new HookName(layer, HookPoint.RESID_POST), (ctx, x) -> {
                    for (int t = 0; t < ctx.tokens(); t++) {
                        if (ctx.position(t) % 2 == 0) continue;
                        for (int k = 0; k < d; k++) x[t * d + k] += coeff * vector[k];
                    }
                }));
            }
            return () -> handles.forEach(Hooks.Handle::close);
        };
    }

    static String describe(HookContext ctx, float[] x) {
        return ctx + " " + Arrays.hashCode(x) + " " + x.length;
    }

    @ParameterizedTest
    @MethodSource("io.jsteer.tests.Fixtures#models")
    void raggedBatchesGiveEachSequenceItsResultsAlone(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int vocab = model.config().vocabSize();
        Random random = new Random(name.hashCode());
        for (int round = 0; round < 3; round++) {
            // 1-9 sequences of 1-70 prompt tokens (crossing KV blocks of 64), one of a length that
            // takes the prompt order, and 0-12 more tokens: short ones leave early, and with a
            // batch smaller than their number the rest join then
            int n = 1 + random.nextInt(9);
            List<Script> scripts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int length = i == 0 ? 70 : i == 1 ? MatMul.PROMPT_TOKENS + round : 1 + random.nextInt(70);
                int more = random.nextInt(Math.min(13, model.config().maxPositions() - length));
                List<String> seen = new ArrayList<>();
                scripts.add(new Script(random.ints(length, 0, vocab).toArray(), random.ints(more, 0, vocab).toArray(), hooks(model, i, seen), seen));
            }
            int batch = 1 + random.nextInt(n);
            new Engine(model, batch).run(scripts);
            for (int i = 0; i < n; i++) {
                Script batched = scripts.get(i);
                assertNull(batched.failure);
                List<String> seenAlone = new ArrayList<>();
                Script solo = new Script(batched.prompt, batched.then, hooks(model, i, seenAlone), seenAlone);
                List<float[]> alone = solo.alone(model);
                assertEquals(alone.size(), batched.logits.size(), name + " sequence " + i + " steps");
                for (int step = 0; step < alone.size(); step++) {
                    assertArrayEquals(alone.get(step), batched.logits.get(step), name + " round " + round + " batch " + batch + " sequence " + i + " step " + step);
                }
                assertEquals(seenAlone, batched.seen, name + " sequence " + i + ": hook calls");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jsteer.tests.Fixtures#models")
    void batchedPrefillWithAllLogitsMatchesOneSequenceAtATime(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int vocab = model.config().vocabSize();
        Random random = new Random(3);
        List<Model.Step> steps = new ArrayList<>();
        // the last a prompt in the prompt order, wanting all its logits beside ones that do not
        for (int i = 0; i < 5; i++) steps.add(new Model.Step(model.newState(), random.ints(i == 4 ? MatMul.PROMPT_TOKENS + 7 : 1 + 17 * i, 0, vocab).toArray(), i % 2 == 0));
        List<float[]> batched = model.forward(steps);
        for (int i = 0; i < steps.size(); i++) {
            Model.Step s = steps.get(i);
            assertEquals(s.tokens().length, s.state().length());
            float[] alone = model.forward(model.newState(), s.tokens(), s.allLogits());
            assertArrayEquals(alone, batched.get(i), name + " sequence " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("io.jsteer.tests.Fixtures#models")
    void generationsAreTheSameForEveryBatchSize(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int vocab = model.config().vocabSize();
        Generator generator = new Generator(model);
        Random random = new Random(5);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 7; i++) prompts.add(random.ints(1 + random.nextInt(40), 0, vocab).toArray());
        List<int[]> expected = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Sampler sampler = i % 2 == 0 ? Sampler.greedy() : new Sampler(0.9, 20, 0.95, i);
            expected.add(generator.generate(model.newState(), prompts.get(i), 8 + i, sampler, new int[] {3}, null).tokens());
        }
        for (int batch : new int[] {1, 3, 8}) {
            List<Generation> gens = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                Sampler sampler = i % 2 == 0 ? Sampler.greedy() : new Sampler(0.9, 20, 0.95, i);
                gens.add(generator.generation(prompts.get(i), 8 + i, sampler, new int[] {3}, null, null));
            }
            generator.generateAll(gens, batch);
            for (int i = 0; i < gens.size(); i++) assertArrayEquals(expected.get(i), gens.get(i).result().tokens(), name + " batch " + batch + " sequence " + i);
        }
    }

    @Test
    void longPromptsJoinSequencesAlreadyDecoding() {
        // prompts as long as the default row budget: each must join the running ones, one per
        // step, until the batch is full, rather than wait for them to finish
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        Random random = new Random(9);
        Engine engine = new Engine(model, 8);
        int[] most = {0};
        List<Script> scripts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            scripts.add(new Script(random.ints(Engine.DEFAULT_ROWS, 0, model.config().vocabSize()).toArray(), new int[12], null, null) {
                @Override
                public int next(float[] l) {
                    most[0] = Math.max(most[0], engine.running());
                    return super.next(l);
                }
            });
        }
        engine.run(scripts);
        assertEquals(8, most[0], "sequences running at once");
        for (Script s : scripts) assertEquals(13, s.logits.size());
    }

    @Test
    void aBadPromptEndsOnlyItsOwnJob() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        int vocab = model.config().vocabSize();
        Script good = new Script(new int[] {1, 2, 3}, new int[] {4, 5}, null, null);
        Script badId = new Script(new int[] {1, vocab}, new int[] {}, null, null);
        Script tooLong = new Script(new int[model.config().maxPositions() + 1], new int[] {}, null, null);
        Script good2 = new Script(new int[] {7}, new int[] {8}, null, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Engine(model, 2).run(List.of(good, badId, tooLong, good2)));
        assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
        assertNull(good.failure);
        assertNull(good2.failure);
        assertEquals(3, good.logits.size());
        assertEquals(2, good2.logits.size());
        assertTrue(tooLong.failure.getMessage().contains("max_position_embeddings"), tooLong.failure.getMessage());
    }

    @Test
    void batchSizeMustBeSane() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        for (int bad : new int[] {0, -1, Engine.MAX_BATCH + 1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Engine(model, bad));
            assertTrue(e.getMessage().startsWith("batch size must be between 1 and"), e.getMessage());
        }
        State s = model.newState();
        assertThrows(IllegalArgumentException.class, () -> model.forward(List.of(new Model.Step(s, new int[] {1}, false), new Model.Step(s, new int[] {2}, false))));
    }
}
