/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.report.GenerationExample;
import io.jsteer.cli.report.HtmlReport;
import io.jsteer.cli.report.Report;
import io.jsteer.steering.eval.Continuations;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.Sweep;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real sweep on the fixture model turned into a report, as {@code jsteer sweep --report} does. */
class ReportEndToEndTest {
    @TempDir
    Path dir;

    @Test
    void sweepOfTheFixtureRendersToAReport() throws IOException {
        float[] v = EvalFixture.caaX4();
        SweepResult sweep = Sweep.run(SweepTest.evaluator(), SweepGrid.of(List.of(0, 1, 2, 3), List.of(0.0, 0.25, 0.5, 1.0)),
                p -> new EvalFixture.AddVector(p.layer(), v, p.coefficient()), null);
        SweepRow best = sweep.best(1.25).orElseThrow();
        int[] prompt = Fixtures.ints(EvalFixture.steering().get("unsteered").get("generation").get("prompt_ids"));
        Decoding greedy = Decoding.greedy(10);
        var steering = new EvalFixture.AddVector(best.point().layer(), v, best.point().coefficient());
        GenerationExample example = new GenerationExample(Arrays.toString(prompt),
                Arrays.toString(Continuations.generate(EvalFixture.model(), null, prompt, greedy, 0)),
                Arrays.toString(Continuations.generate(EvalFixture.model(), steering, prompt, greedy, 0)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("Model", EvalFixture.MODEL);
        meta.put("Vector", "reference CAA x4, norm " + norm(v));
        Path file = dir.resolve("report.html");
        HtmlReport.write(new Report("CAA sweep on " + EvalFixture.MODEL, meta, sweep, 1.25, steering.describe(), List.of(example)), file);

        String html = Files.readString(file);
        assertEquals(16, Pattern.compile("<tr(?: class=\"best\")?><td class=\"n\">\\d</td>").matcher(html).results().count(), "one row per setting");
        assertEquals(3, Pattern.compile("src=\"data:image/png;base64,").matcher(html).results().count(), "three plots");
        assertTrue(html.contains("<tr class=\"best\"><td class=\"n\">" + best.point().layer() + "</td>"));
        assertTrue(html.contains(example.steered()));
    }

    static String norm(float[] v) {
        double s = 0;
        for (float x : v) s += x * x;
        return String.format(Locale.ROOT, "%.3f", Math.sqrt(s));
    }
}
