/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.NonFiniteException;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hook;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** One sequence's failure in a batch ends that sequence only: the others keep their work and get the results they would alone. */
class SequenceFailureTest {
    /** Greedy decoding of a few tokens, keeping every step's logits, with {@code hooks} attached (may be null). */
    static final class Greedy implements Job {
        final int[] prompt;
        final Function<State, Hooks.Handle> hooks;
        final List<float[]> logits = new ArrayList<>();
        Hooks.Handle handle;
        Exception failure;
        boolean ended;

        Greedy(int[] prompt, Function<State, Hooks.Handle> hooks) {
            this.prompt = prompt;
            this.hooks = hooks;
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
            return logits.size() < 6 ? Sampler.argmax(l, 0, l.length) : END;
        }

        @Override
        public void end(Exception failure) {
            this.failure = failure;
            this.ended = true;
            if (handle != null) handle.close();
        }

        Greedy fresh() {
            return new Greedy(prompt, hooks);
        }
    }

    /** Steering from position {@code from} on by a vector that overflows float32: 3e38 is finite, but added at two blocks it is not. */
    static Function<State, Hooks.Handle> overflowFrom(int from) {
        Hook push = (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) {
                if (ctx.position(t) < from) continue;
                for (int i = 0; i < ctx.width(); i++) x[t * ctx.width() + i] += 3e38f;
            }
        };
        return state -> {
            Hooks.Handle a = state.hooks().add(new HookName(0, HookPoint.RESID_POST), push), b = state.hooks().add(new HookName(1, HookPoint.RESID_POST), push);
            return () -> {
                a.close();
                b.close();
            };
        };
    }

    /** A hook that throws once the sequence reaches position {@code from}. */
    static Function<State, Hooks.Handle> throwingFrom(int from) {
        return state -> state.hooks().add(new HookName(1, HookPoint.MLP_OUT), (ctx, x) -> {
            if (ctx.position(ctx.tokens() - 1) >= from) throw new IllegalStateException("the hook gave up at position " + from);
        });
    }

    /** Runs {@code batch} together, then each job alone: the healthy ones' logits are the same bit for bit, the failed one fails the same way. */
    static void failsAlone(Model model, List<Greedy> batch, int bad, int stepsBeforeFailing, Class<? extends Exception> type) {
        Exception thrown = assertThrows(type, () -> new Engine(model, batch.size()).run(batch));
        Greedy failed = batch.get(bad);
        assertTrue(failed.ended);
        assertEquals(thrown, failed.failure, "the run reports the failed job's own exception");
        assertEquals(stepsBeforeFailing, failed.logits.size());
        for (Greedy job : batch) {
            Greedy alone = job.fresh();
            if (job == failed) {
                assertThrows(type, () -> new Engine(model, 1).run(List.of(alone)));
                assertEquals(failed.failure.getMessage(), alone.failure.getMessage(), "as when it runs alone");
            } else {
                new Engine(model, 1).run(List.of(alone));
                assertNull(job.failure);
                assertEquals(6, job.logits.size(), "ran to the end beside the failed sequence");
            }
            assertEquals(alone.logits.size(), job.logits.size());
            for (int i = 0; i < job.logits.size(); i++) assertArrayEquals(alone.logits.get(i), job.logits.get(i), "step " + i + ", bit for bit");
        }
    }

    @Test
    void aSequenceThatOverflowsInABatchFailsAloneAndTheOthersGetTheirResultsAlone() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        // the prompt's step and the step at position 4 run; the one at position 5 overflows
        failsAlone(model, List.of(new Greedy(new int[] {1, 2, 3}, null), new Greedy(new int[] {4, 5, 6, 7}, overflowFrom(5)),
                new Greedy(new int[] {8, 9}, null), new Greedy(new int[] {10, 11, 12}, null)), 1, 2, NonFiniteException.class);
    }

    @Test
    void aHookThatThrowsInABatchFailsItsOwnSequenceOnly() {
        Model model = Model.load(Fixtures.dir("gemma2-tiny"));
        failsAlone(model, List.of(new Greedy(new int[] {1, 2, 3}, throwingFrom(4)), new Greedy(new int[] {4, 5, 6, 7}, null),
                new Greedy(new int[] {8, 9}, throwingFrom(100))), 0, 2, IllegalStateException.class);
        // a batched forward call is all or nothing; forwardEach keeps the healthy sequence
        State healthy = model.newState(), throwing = model.newState();
        throwingFrom(0).apply(throwing);
        List<Model.Step> steps = List.of(new Model.Step(healthy, new int[] {3, 4}, false), new Model.Step(throwing, new int[] {5}, false));
        assertEquals("the hook gave up at position 0", assertThrows(IllegalStateException.class, () -> model.forward(steps)).getMessage());
        assertEquals(0, healthy.length());
        List<Model.Outcome> outcomes = model.forwardEach(steps);
        assertEquals("the hook gave up at position 0", outcomes.get(1).failure().getMessage());
        assertEquals(0, throwing.length());
        assertArrayEquals(model.forward(model.newState(), new int[] {3, 4}, false), outcomes.get(0).logits());
    }

    @Test
    void aBatchedForwardCallIsAllOrNothingWhileForwardEachKeepsTheHealthySequences() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        State healthy = model.newState(), steered = model.newState();
        model.forward(healthy, new int[] {1, 2}, false);
        steered.hooks().add(new HookName(0, HookPoint.MLP_OUT), (ctx, x) -> x[0] = Float.NaN);
        List<Model.Step> steps = List.of(new Model.Step(healthy, new int[] {3, 4}, true), new Model.Step(steered, new int[] {5}, false));

        NonFiniteException e = assertThrows(NonFiniteException.class, () -> model.forward(steps));
        assertEquals(new HookName(0, HookPoint.MLP_OUT), e.hook());
        assertEquals(2, healthy.length(), "the healthy sequence is taken back too");
        assertEquals(0, steered.length());

        List<Model.Outcome> outcomes = model.forwardEach(steps);
        assertNull(outcomes.get(0).failure());
        assertInstanceOf(NonFiniteException.class, outcomes.get(1).failure());
        assertNull(outcomes.get(1).logits());
        assertEquals(4, healthy.length(), "the healthy sequence advanced");
        assertEquals(0, steered.length(), "the failed one is as before the call");
        State alone = model.newState();
        model.forward(alone, new int[] {1, 2}, false);
        assertArrayEquals(model.forward(alone, new int[] {3, 4}, true), outcomes.get(0).logits());
    }
}
