/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.eval.AnswerPrompt;
import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.LogitDifference;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

/**
 * Logit difference against Hugging Face logits: by causality the logits of a prefix's last token
 * are row {@code len - 1} of the full input's logits, so every prefix of the reference input is a
 * held-out prompt with a known answer.
 */
class LogitDifferenceTest {
    static final Model MODEL = EvalFixture.model();

    @Test
    void matchesHuggingFaceLogitsPerPromptAndOnAverage() {
        JsonNode s = EvalFixture.steering();
        int[] ids = Fixtures.ints(s.get("eval_input_ids"));
        JsonNode plainRows = s.get("unsteered").get("logits"), steeredRows = s.get("steered").get("caa_x4").get("logits");
        // answers: what the steered model prefers at the end vs what the unsteered model prefers
        int target = Fixtures.ints(s.get("steered").get("caa_x4").get("argmax"))[ids.length - 1];
        int counter = argmax(EvalFixture.row(plainRows, ids.length - 1));
        assertNotEquals(target, counter, "steering changes the top answer, so the two answers differ");
        List<AnswerPrompt> prompts = new ArrayList<>();
        int n = ids.length;
        double[] plain = new double[n], steered = new double[n];
        for (int len = 1; len <= n; len++) {
            prompts.add(new AnswerPrompt(Arrays.copyOf(ids, len), target, counter));
            float[] p = EvalFixture.row(plainRows, len - 1), q = EvalFixture.row(steeredRows, len - 1);
            plain[len - 1] = (double) p[target] - p[counter];
            steered[len - 1] = (double) q[target] - q[counter];
        }
        LogitDifference m = new LogitDifference("caa", prompts);
        double[] gotPlain = m.scores(MODEL, null);
        double[] gotSteered = m.scores(MODEL, new EvalFixture.AddVector(EvalFixture.LAYER, EvalFixture.caaX4(), 1));
        for (int i = 0; i < n; i++) {
            assertEquals(plain[i], gotPlain[i], 1e-4, "unsteered prompt " + i);
            assertEquals(steered[i], gotSteered[i], 1e-4, "steered prompt " + i);
        }
        Effect e = Effect.of("caa", gotPlain, gotSteered);
        double meanDiff = 0;
        for (int i = 0; i < n; i++) meanDiff += (steered[i] - plain[i]) / n;
        System.out.printf("logit difference: steered - unsteered = %.4f [%.4f, %.4f], p %.3g (HF %.4f)%n",
                e.mean(), e.difference().low(), e.difference().high(), e.pValue(), meanDiff);
        assertEquals(meanDiff, e.mean(), 1e-4);
        assertEquals(new TTest().pairedTTest(steered, plain), e.pValue(), 1e-3);
    }

    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    @Test
    void answerOutsideTheVocabularyIsNamed() {
        var m = new LogitDifference("caa", List.of(new AnswerPrompt(new int[] {1, 2}, 3, 4), new AnswerPrompt(new int[] {1}, 600, 4)));
        var e = assertThrows(IllegalArgumentException.class, () -> m.scores(MODEL, null));
        assertEquals("measure 'caa', item 1: target token id 600 is outside the vocabulary [0, 512)", e.getMessage());
    }
}
