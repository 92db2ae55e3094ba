/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.eval.AnswerPrompt;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.InterventionFactory;
import io.jsteer.steering.eval.LogitDifference;
import io.jsteer.steering.eval.Measure;
import io.jsteer.steering.eval.Sweep;
import io.jsteer.steering.eval.SweepFiles;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import io.jsteer.steering.eval.TextNll;
import io.jsteer.steering.eval.WordScore;
import io.jsteer.steering.eval.WordSet;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A layer x coefficient sweep of the reference CAA direction on the fixture model. */
class SweepTest {
    static final Model MODEL = EvalFixture.model();

    @TempDir
    Path dir;

    static Evaluator evaluator() {
        int[] ids = Fixtures.ints(EvalFixture.steering().get("eval_input_ids"));
        List<AnswerPrompt> prompts = new ArrayList<>();
        for (int len = 2; len <= ids.length; len++) prompts.add(new AnswerPrompt(Arrays.copyOf(ids, len), 180, 342));
        Measure target = new LogitDifference("caa-answer", prompts);
        int[] prompt = Fixtures.ints(EvalFixture.steering().get("unsteered").get("generation").get("prompt_ids"));
        Measure spill = new WordScore(WordSet.ofIds("other-words", 111, 315), List.of(prompt, Arrays.copyOf(ids, 5)), Decoding.greedy(6), WordScore.Statistic.PROBABILITY_MASS);
        return new Evaluator(MODEL, target, new TextNll(TextNllTest.texts()), List.of(spill));
    }

    @Test
    void sweepVisitsTheGridReportsProgressAndMatchesSingleEvaluations() throws IOException {
        float[] v = EvalFixture.caaX4();
        List<String> progress = new ArrayList<>();
        SweepGrid grid = SweepGrid.of(List.of(0, 1, 2), List.of(0.0, 0.5, 1.0));
        SweepResult r = Sweep.run(evaluator(), grid, p -> new EvalFixture.AddVector(p.layer(), v, p.coefficient()),
                (done, total, row) -> progress.add(done + "/" + total + " " + row.point().layer() + "@" + row.point().coefficient()));
        assertEquals(List.of("1/9 0@0.0", "2/9 0@0.5", "3/9 0@1.0", "4/9 1@0.0", "5/9 1@0.5", "6/9 1@1.0", "7/9 2@0.0", "8/9 2@0.5", "9/9 2@1.0"), progress);
        assertEquals("caa-answer", r.target());
        assertEquals(List.of("other-words"), r.spillover());

        for (SweepRow row : r.rows()) {
            Evaluation e = row.evaluation();
            if (row.point().coefficient() == 0) {
                // a zero vector leaves every number unchanged
                assertEquals(0.0, e.onTarget().mean(), 0);
                assertEquals(1.0, e.perplexity().ratio(), 0);
                assertEquals(1.0, e.perplexity().pValue(), 0);
                assertEquals(0.0, e.spillover().get(0).mean(), 0);
            }
        }
        // a fresh evaluator (own baseline) gives the same numbers as the sweep's shared baseline
        SweepRow layer1 = r.rows().get(5);
        assertEquals(new SweepPoint(1, 1.0, OptionalInt.empty()), layer1.point());
        assertEquals(evaluator().evaluate(new EvalFixture.AddVector(1, v, 1.0)), layer1.evaluation());
        assertTrue(layer1.evaluation().onTarget().mean() > 0, "the caa x4 direction favours token 180 over 342");

        Path json = dir.resolve("sweep.json"), csv = dir.resolve("sweep.csv");
        SweepFiles.writeJson(r, json);
        SweepFiles.writeCsv(r, csv);
        assertEquals(r, SweepFiles.readJson(json));
        assertEquals(10, Files.readAllLines(csv).size(), "header and nine rows");
        System.out.print(SweepFiles.csv(r));
    }

    @Test
    void methodFactoryFitsEachSetting() {
        ContrastSet data = new ContrastSet(List.of(new int[] {1, 2}), List.of(new int[] {3, 4}));
        List<String> fitted = new ArrayList<>();
        InterventionFactory f = InterventionFactory.fitting(MODEL, data, p -> new SteeringMethod() {
            @Override
            public String name() {
                return "fixed";
            }

            @Override
            public Intervention fit(Model model, ContrastSet d) {
                assertSame(MODEL, model);
                assertSame(data, d);
                fitted.add(p.toString());
                return new EvalFixture.AddVector(p.layer(), EvalFixture.caaX4(), p.coefficient());
            }
        });
        SweepResult r = Sweep.run(evaluator(), new SweepGrid(List.of(1), List.of(1.0), List.of(4, 8)), f, null);
        assertEquals(List.of("layer 1, coefficient 1.0, k 4", "layer 1, coefficient 1.0, k 8"), fitted);
        assertEquals(r.rows().get(0).evaluation(), r.rows().get(1).evaluation());
        assertTrue(r.hasK());
    }

    @Test
    void measureNamesMustDiffer() {
        Measure target = new LogitDifference("nll", List.of(new AnswerPrompt(new int[] {1}, 2, 3)));
        var e = assertThrows(IllegalArgumentException.class, () -> new Evaluator(MODEL, target, new TextNll(TextNllTest.texts()), List.of()));
        assertEquals("measure name 'nll' is used twice; names label columns and must differ", e.getMessage());
    }
}
