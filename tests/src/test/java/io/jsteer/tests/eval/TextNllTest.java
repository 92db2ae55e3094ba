/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.eval.AnswerPrompt;
import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.LogitDifference;
import io.jsteer.steering.eval.TextNll;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

/** Held-out NLL and perplexity damage against Hugging Face logits and a direct computation. */
class TextNllTest {
    static final Model MODEL = EvalFixture.model();
    static final int V = MODEL.config().vocabSize();

    /** Mean NLL of {@code ids} from a {@code [T][V]} logit array given as JSON rows. */
    static double nllFromRows(JsonNode rows, int[] ids) {
        double sum = 0;
        for (int t = 0; t + 1 < ids.length; t++) sum -= EvalFixture.logProb(EvalFixture.row(rows, t), ids[t + 1]);
        return sum / (ids.length - 1);
    }

    @Test
    void nllMatchesHuggingFaceLogits() {
        JsonNode s = EvalFixture.steering();
        int[] ids = Fixtures.ints(s.get("eval_input_ids"));
        TextNll nll = new TextNll(List.of(ids));
        double expectedPlain = nllFromRows(s.get("unsteered").get("logits"), ids);
        double expectedSteered = nllFromRows(s.get("steered").get("caa_x4").get("logits"), ids);
        double plain = nll.scores(MODEL, null)[0];
        double steered = nll.scores(MODEL, new EvalFixture.AddVector(EvalFixture.LAYER, EvalFixture.caaX4(), 1))[0];
        System.out.printf("held-out NLL: unsteered %.6f (HF %.6f), caa x4 %.6f (HF %.6f)%n", plain, expectedPlain, steered, expectedSteered);
        assertEquals(expectedPlain, plain, 1e-4);
        assertEquals(expectedSteered, steered, 1e-4);
        // steering this hard must cost something, or the test could not tell the two apart
        assertEquals(true, steered - plain > 0.05, "steering should raise the NLL, got " + (steered - plain));
    }

    /** Per-text NLL with a plain forward pass and a hook attached by hand, not through the eval package. */
    static double directNll(int[] ids, float[] vector) {
        State st = MODEL.newState();
        if (vector != null) st.hooks().add(new HookName(EvalFixture.LAYER, HookPoint.RESID_POST), (ctx, x) -> EvalFixture.add(x, ctx.tokens(), vector, 1));
        float[] logits = MODEL.forward(st, ids, true);
        double sum = 0;
        for (int t = 0; t + 1 < ids.length; t++) sum -= EvalFixture.logProb(Arrays.copyOfRange(logits, t * V, (t + 1) * V), ids[t + 1]);
        return sum / (ids.length - 1);
    }

    static List<int[]> texts() {
        List<int[]> texts = new ArrayList<>();
        texts.add(Fixtures.ints(EvalFixture.steering().get("eval_input_ids")));
        for (JsonNode in : EvalFixture.json("reference.json").get("inputs")) {
            int[] ids = Fixtures.ints(in.get("input_ids"));
            if (ids.length >= 2) texts.add(ids);
        }
        texts.add(Fixtures.ints(EvalFixture.steering().get("unsteered").get("generation").get("prompt_ids")));
        return texts;
    }

    @Test
    void perplexityChangeMatchesDirectStatistics() {
        List<int[]> texts = texts();
        float[] v = EvalFixture.caaX4();
        int n = texts.size();
        double[] plain = new double[n], steered = new double[n], diff = new double[n];
        for (int i = 0; i < n; i++) {
            plain[i] = directNll(texts.get(i), null);
            steered[i] = directNll(texts.get(i), v);
            diff[i] = steered[i] - plain[i];
        }
        double mean = Arrays.stream(diff).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(diff).map(d -> (d - mean) * (d - mean)).sum() / (n - 1));
        double half = new TDistribution(n - 1).inverseCumulativeProbability(0.975) * sd / Math.sqrt(n);

        int[] first = texts.get(0);
        var target = new LogitDifference("dummy", List.of(new AnswerPrompt(first, 1, 2)));
        Evaluation e = new Evaluator(MODEL, target, new TextNll(texts), List.of()).evaluate(new EvalFixture.AddVector(EvalFixture.LAYER, v, 1));
        System.out.printf("perplexity ratio %.4f [%.4f, %.4f], p %.3g over %d texts%n", e.perplexity().ratio(), e.perplexity().low(), e.perplexity().high(), e.perplexity().pValue(), n);
        Effect nll = e.perplexity().nll();
        double[] perText = new TextNll(texts).scores(MODEL, new EvalFixture.AddVector(EvalFixture.LAYER, v, 1));
        for (int i = 0; i < n; i++) assertEquals(steered[i], perText[i], 1e-5, "text " + i);
        assertEquals(Arrays.stream(plain).average().orElseThrow(), nll.unsteered().mean(), 1e-5);
        assertEquals(Arrays.stream(steered).average().orElseThrow(), nll.steered().mean(), 1e-5);
        assertEquals(Math.exp(mean), e.perplexity().ratio(), 1e-5);
        assertEquals(Math.exp(mean - half), e.perplexity().low(), 1e-5);
        assertEquals(Math.exp(mean + half), e.perplexity().high(), 1e-5);
        assertEquals(new TTest().pairedTTest(steered, plain), e.perplexity().pValue(), 1e-6);
    }

    @Test
    void tooShortTextIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TextNll(List.of(new int[] {1, 2}, new int[] {3})));
        assertEquals("held-out text 1 has fewer than 2 tokens; perplexity needs a token to predict", e.getMessage());
    }

    @Test
    void outOfVocabularyTokenNamesMeasureAndItem() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TextNll(List.of(new int[] {1, 2}, new int[] {3, 9999})).scores(MODEL, null));
        assertEquals("measure 'nll', item 1: token id 9999 at index 1 of the prompt is outside the vocabulary [0, 512)", e.getMessage());
    }
}
