/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.Generator.Result;
import io.jsteer.transformer.generate.Generator.Stop;
import io.jsteer.transformer.hooks.Hook;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The request builder against the positional calls it replaces, on GeneratorTest's random GPT-NeoX. */
class GenerationRequestTest {
    static final int[] PROMPT = {3, 17, 5, 29};
    static final HookName POINT = new HookName(0, HookPoint.RESID_POST);
    static Model model;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        GeneratorTest.writeModel(dir);
        model = GeneratorTest.model;
    }

    /** Adds {@code amount} to the first coordinate of every row: enough to change greedy choices. */
    private static Function<State, Hooks.Handle> push(float amount) {
        Hook hook = (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) x[t * ctx.width()] += amount;
        };
        return state -> state.hooks().add(POINT, hook);
    }

    @Test
    void defaultsAreGreedyTwentyTokensNoStopsNoSteering() {
        GenerationRequest r = GenerationRequest.builder(PROMPT).build();
        assertEquals(GenerationRequest.DEFAULT_MAX_NEW_TOKENS, r.maxNewTokens());
        assertTrue(r.sampler().isGreedy());
        assertEquals(0, r.stopTokens().length);
        assertEquals(null, r.listener());
        assertTrue(r.steering().isEmpty());
        assertArrayEquals(PROMPT, r.prompt());
    }

    @Test
    void sameTokensAsThePositionalCall() {
        Generator g = new Generator(model);
        for (long seed = 1; seed <= 3; seed++) {
            Sampler sampler = new Sampler(1.3, 0, 1, seed);
            int[] stops = {7, 11};
            Result old = g.generate(model.newState(), PROMPT, 12, sampler.copy(), stops, null);
            Result now = g.generate(GenerationRequest.builder(PROMPT).maxNewTokens(12).sampler(sampler.copy()).stopTokens(stops).build());
            assertArrayEquals(old.tokens(), now.tokens(), "seed " + seed);
            assertEquals(old.stop(), now.stop(), "seed " + seed);
        }
    }

    @Test
    void aSampledRequestGivesTheSameTokensEachRun() {
        Generator g = new Generator(model);
        GenerationRequest r = GenerationRequest.builder(PROMPT).maxNewTokens(12).sampler(new Sampler(1.5, 0, 1, 7)).build();
        int[] first = g.generate(r).tokens();
        assertArrayEquals(first, g.generate(r).tokens());
        assertArrayEquals(first, g.generate(model.newState(), PROMPT, 12, new Sampler(1.5, 0, 1, 7), null, null).tokens());
    }

    @Test
    void steeringActsLikeHooksAttachedByHandAndIsDetachedAfter() {
        Generator g = new Generator(model);
        State byHand = model.newState();
        Result expected;
        try (Hooks.Handle h = push(40f).apply(byHand)) {
            expected = g.generate(byHand, PROMPT, 10, Sampler.greedy(), null, null);
        }
        GenerationRequest plain = GenerationRequest.builder(PROMPT).maxNewTokens(10).build();
        GenerationRequest steered = plain.toBuilder().steering(push(40f)).build();
        State state = model.newState();
        Result got = g.generate(state, steered);
        assertArrayEquals(expected.tokens(), got.tokens());
        assertFalse(state.hooks().active(POINT.layer(), POINT.point()), "steering is detached after the call");
        assertFalse(Arrays.equals(g.generate(plain).tokens(), got.tokens()), "the push changes the greedy continuation");
        assertArrayEquals(g.generate(plain).tokens(), g.generate(steered.toBuilder().noSteering().build()).tokens());
        assertTrue(plain.steering().isEmpty(), "toBuilder leaves the original request as it was");
    }

    @Test
    void severalSteeringsComposeInOrderAndDetachInReverse() {
        List<String> log = new ArrayList<>();
        Function<State, Hooks.Handle> a = s -> {
            log.add("attach a");
            return () -> log.add("detach a");
        };
        Function<State, Hooks.Handle> b = s -> {
            log.add("attach b");
            return () -> log.add("detach b");
        };
        new Generator(model).generate(GenerationRequest.builder(PROMPT).maxNewTokens(2).steering(a).steering(b).build());
        assertEquals(List.of("attach a", "attach b", "detach b", "detach a"), log);

        Generator g = new Generator(model);
        int[] twice = g.generate(GenerationRequest.builder(PROMPT).maxNewTokens(8).steering(push(20f)).steering(push(20f)).build()).tokens();
        int[] once = g.generate(GenerationRequest.builder(PROMPT).maxNewTokens(8).steering(push(40f)).build()).tokens();
        assertArrayEquals(once, twice, "two pushes of 20 add up to one of 40");
    }

    @Test
    void aFailingAttachDetachesTheOnesBefore() {
        List<String> log = new ArrayList<>();
        Function<State, Hooks.Handle> a = s -> () -> log.add("detach a");
        Function<State, Hooks.Handle> broken = s -> {
            throw new IllegalStateException("cannot attach");
        };
        GenerationRequest r = GenerationRequest.builder(PROMPT).steering(a).steering(broken).build();
        assertThrows(IllegalStateException.class, () -> new Generator(model).generate(r));
        assertEquals(List.of("detach a"), log);
    }

    @Test
    void stopTokenAndListenerEndGeneration() {
        Generator g = new Generator(model);
        int[] free = g.generate(GenerationRequest.builder(PROMPT).maxNewTokens(10).build()).tokens();
        Result stopped = g.generate(GenerationRequest.builder(PROMPT).maxNewTokens(10).stopTokens(free[3]).build());
        assertEquals(Stop.STOP_TOKEN, stopped.stop());
        int cut = 0;
        while (free[cut] != free[3]) cut++;
        assertEquals(cut, stopped.tokens().length, "ends before the first occurrence of the stop token");

        List<Integer> heard = new ArrayList<>();
        Result listened = g.generate(GenerationRequest.builder(PROMPT).maxNewTokens(10).listener(id -> {
            heard.add(id);
            return heard.size() < 4;
        }).build());
        assertEquals(Stop.LISTENER, listened.stop());
        assertEquals(4, listened.tokens().length);
        assertEquals(List.of(free[0], free[1], free[2], free[3]), heard);
    }

    @Test
    void batchedGenerationGivesTheSameResult() {
        Generator g = new Generator(model);
        GenerationRequest steered = GenerationRequest.builder(PROMPT).maxNewTokens(9).steering(push(40f)).build();
        GenerationRequest plain = GenerationRequest.builder(new int[] {8, 2}).maxNewTokens(9).build();
        Generation a = g.generation(steered), b = g.generation(plain);
        g.generateAll(List.of(a, b), 2);
        assertArrayEquals(g.generate(steered).tokens(), a.result().tokens());
        assertArrayEquals(g.generate(plain).tokens(), b.result().tokens());
    }

    @Test
    void badSettingsAreRefusedWhenGiven() {
        assertEquals("generation needs a prompt of at least one token",
                assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder(new int[0])).getMessage());
        assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder(null));
        assertEquals("max new tokens must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder(PROMPT).maxNewTokens(-1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder(PROMPT).sampler(null));
        assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder(PROMPT).steering(null));
        assertEquals(0, new Generator(model).generate(GenerationRequest.builder(PROMPT).maxNewTokens(0).build()).tokens().length);
    }
}
