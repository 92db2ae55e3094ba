/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.eval.Continuations;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.WordScore;
import io.jsteer.steering.eval.WordSet;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Behaviour-word scores against Hugging Face greedy generations, steered and unsteered. */
class WordScoreTest {
    static final Model MODEL = EvalFixture.model();
    static final JsonNode S = EvalFixture.steering();
    static final int[] PROMPT = Fixtures.ints(S.get("unsteered").get("generation").get("prompt_ids"));
    static final int[] PLAIN_NEW = Fixtures.ints(S.get("unsteered").get("generation").get("new_ids"));
    static final int[] STEERED_NEW = Fixtures.ints(S.get("steered").get("caa_x4").get("generation").get("new_ids"));
    /** The tokens caa x4 makes the model repeat: 342 once, then 180. */
    static final WordSet WORDS = WordSet.ofIds("caa-words", 180, 342);
    static final Decoding GREEDY = Decoding.greedy(PLAIN_NEW.length);

    static EvalFixture.AddVector caa() {
        return new EvalFixture.AddVector(EvalFixture.LAYER, EvalFixture.caaX4(), 1);
    }

    @Test
    void greedyContinuationsAreHuggingFaces() {
        assertArrayEquals(PLAIN_NEW, Continuations.generate(MODEL, null, PROMPT, GREEDY, 0));
        assertArrayEquals(STEERED_NEW, Continuations.generate(MODEL, caa(), PROMPT, GREEDY, 0));
    }

    static double rate(int[] generated) {
        return Arrays.stream(generated).filter(t -> t == 180 || t == 342).count() / (double) generated.length;
    }

    @Test
    void rateCountsWordTokensInTheReferenceContinuations() {
        WordScore m = new WordScore(WORDS, List.of(PROMPT), GREEDY, WordScore.Statistic.RATE);
        assertEquals(rate(PLAIN_NEW), m.scores(MODEL, null)[0], 0);
        assertEquals(rate(STEERED_NEW), m.scores(MODEL, caa())[0], 0);
        assertEquals(1.0, rate(STEERED_NEW));
    }

    /**
     * Mean word mass over the steps of a known continuation, teacher-forced in one pass with all
     * logits (not the incremental cached decoding the measure uses).
     */
    static double teacherForcedMass(int[] generated, float[] vector) {
        State st = MODEL.newState();
        if (vector != null) st.hooks().add(new HookName(EvalFixture.LAYER, HookPoint.RESID_POST), (ctx, x) -> EvalFixture.add(x, ctx.tokens(), vector, 1));
        int[] seq = Arrays.copyOf(PROMPT, PROMPT.length + generated.length - 1);
        System.arraycopy(generated, 0, seq, PROMPT.length, generated.length - 1);
        float[] logits = MODEL.forward(st, seq, true);
        int v = MODEL.config().vocabSize();
        double total = 0;
        for (int step = 0; step < generated.length; step++) {
            float[] row = Arrays.copyOfRange(logits, (PROMPT.length - 1 + step) * v, (PROMPT.length + step) * v);
            total += Math.exp(EvalFixture.logProb(row, 180)) + Math.exp(EvalFixture.logProb(row, 342));
        }
        return total / generated.length;
    }

    @Test
    void probabilityMassMatchesTeacherForcing() {
        WordScore m = new WordScore(WORDS, List.of(PROMPT), GREEDY, WordScore.Statistic.PROBABILITY_MASS);
        double plain = m.scores(MODEL, null)[0], steered = m.scores(MODEL, caa())[0];
        System.out.printf("word mass: unsteered %.5f, caa x4 %.5f%n", plain, steered);
        assertEquals(teacherForcedMass(PLAIN_NEW, null), plain, 1e-5);
        assertEquals(teacherForcedMass(STEERED_NEW, EvalFixture.caaX4()), steered, 1e-5);
    }

    @Test
    void samplingPairsSteeredAndUnsteeredDraws() {
        Decoding d = Decoding.sampled(12, 1.0, 42);
        WordScore m = new WordScore(WORDS, List.of(PROMPT, PROMPT), d, WordScore.Statistic.RATE);
        // a zero vector changes nothing, so with common random numbers the draws are identical
        var zero = new EvalFixture.AddVector(EvalFixture.LAYER, new float[MODEL.config().hiddenSize()], 1);
        assertArrayEquals(Continuations.generate(MODEL, null, PROMPT, d, 1), Continuations.generate(MODEL, zero, PROMPT, d, 1));
        assertArrayEquals(m.scores(MODEL, null), m.scores(MODEL, zero));
        // items draw from different streams
        assertEquals(false, Arrays.equals(Continuations.generate(MODEL, null, PROMPT, d, 0), Continuations.generate(MODEL, null, PROMPT, d, 1)));
    }

    @Test
    void tooLongGenerationIsNamed() {
        int[] longPrompt = new int[120];
        WordScore m = new WordScore(WORDS, List.of(PROMPT, longPrompt), GREEDY, WordScore.Statistic.RATE);
        var e = assertThrows(IllegalArgumentException.class, () -> m.scores(MODEL, null));
        assertEquals("measure 'caa-words', item 1: prompt of 120 tokens plus 10 new tokens exceeds the model's max_position_embeddings 128", e.getMessage());
    }
}
