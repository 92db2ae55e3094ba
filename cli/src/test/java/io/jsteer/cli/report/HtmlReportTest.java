/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.PerplexityChange;
import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
    @TempDir
    Path dir;

    /**
     * A made-up 3 layer x 4 coefficient sweep over 6 prompts and 5 texts: the effect grows with
     * the coefficient, most at layer 2; so does the damage.
     */
    static SweepResult sweep() {
        List<SweepRow> rows = new ArrayList<>();
        double[] base = {0.1, -0.3, 0.4, 0.0, 0.2, -0.1};
        double[] nll = {3.0, 3.4, 2.8, 3.1, 3.3};
        for (int layer : new int[] {1, 2, 3}) {
            double gain = switch (layer) {
                case 1 -> 0.3;
                case 2 -> 1.0;
                default -> 0.6;
            };
            for (double c : new double[] {0, 2, 4, 8}) {
                double[] steered = new double[base.length], words = new double[base.length], nllS = new double[nll.length];
                for (int i = 0; i < base.length; i++) {
                    steered[i] = base[i] + gain * c * (1 + 0.1 * i);
                    words[i] = base[i] + 0.01 * c * ((i % 2) * 2 - 1);
                }
                for (int i = 0; i < nll.length; i++) nllS[i] = nll[i] + 0.004 * c * c * (1 + 0.2 * i);
                rows.add(new SweepRow(new SweepPoint(layer, c, OptionalInt.empty()), new Evaluation("caa blocks." + layer + ".hook_resid_post x" + c,
                        Effect.of("joy", base, steered), new PerplexityChange(Effect.of("nll", nll, nllS)), List.of(Effect.of("anger", base, words)))));
            }
        }
        return new SweepResult("joy", List.of("anger"), rows);
    }

    static Report report(SweepResult sweep) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("Model", "pythia-tiny <test> & co");
        meta.put("Method", "CAA (Rimsky et al. 2024)");
        return new Report("Steering report: joy", meta, sweep, 1.1, "caa layer 2 x4",
                List.of(new GenerationExample("I feel", " tired <script>alert(1)</script>", " wonderful & happy")));
    }

    @Test
    void reportIsSelfContainedWithTablesAndDecodablePlots() throws IOException {
        SweepResult sweep = sweep();
        Path file = dir.resolve("report.html");
        HtmlReport.write(report(sweep), file);
        String html = Files.readString(file);
        try (var s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "no temporary file left");
        }

        // nothing is loaded from elsewhere, no script at all, user text is escaped
        assertFalse(html.contains("http://") || html.contains("https://"), "no external references");
        assertFalse(html.toLowerCase().contains("<script"), "no script element");
        assertTrue(html.contains(" tired &lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(html.contains("pythia-tiny &lt;test&gt; &amp; co"));

        // one table row per setting, with its numbers as formatted in the table
        Matcher tr = Pattern.compile("<tr(?: class=\"best\")?><td class=\"n\">(\\d+)</td><td class=\"n\">([-0-9.]+)</td><td class=\"n\">([^<]+)</td>").matcher(html);
        List<String> seen = new ArrayList<>();
        while (tr.find()) seen.add(tr.group(1) + "@" + tr.group(2) + "=" + tr.group(3));
        List<String> expected = new ArrayList<>();
        for (SweepRow r : sweep.rows()) {
            Effect e = r.evaluation().onTarget();
            expected.add(r.point().layer() + "@" + HtmlReport.num(r.point().coefficient()) + "=" + HtmlReport.interval(e.mean(), e.difference().low(), e.difference().high()));
        }
        assertEquals(expected, seen);

        // the best row: largest effect with perplexity ratio <= 1.1 (layer 2, coefficient 4 here)
        SweepRow best = sweep.best(1.1).orElseThrow();
        assertEquals(new SweepPoint(2, 4, OptionalInt.empty()), best.point());
        assertTrue(html.contains("<tr class=\"best\"><td class=\"n\">2</td><td class=\"n\">4.000</td>"), "best row highlighted");
        assertEquals(1, html.split("class=\"best\"", -1).length - 1);
        assertTrue(html.contains("<b>layer 2, coefficient 4.0</b>"));
        assertTrue(html.contains("On-target effect <b>5.000</b> [4.215, 5.785], p &lt; 0.0001; perplexity ratio <b>1.094</b> [1.067, 1.122], p = 0.00058."), "best setting summary");

        // three charts, each a decodable PNG of the declared size and not blank
        Matcher img = Pattern.compile("<img alt=\"[^\"]*\" width=\"(\\d+)\" height=\"(\\d+)\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">").matcher(html);
        int images = 0;
        while (img.find()) {
            images++;
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(img.group(3))));
            assertEquals(SweepCharts.WIDTH, png.getWidth());
            assertEquals(SweepCharts.HEIGHT, png.getHeight());
            assertEquals(Integer.toString(png.getWidth()), img.group(1));
            assertEquals(Integer.toString(png.getHeight()), img.group(2));
            assertTrue(colours(png) > 20, "chart " + images + " has only " + colours(png) + " colours");
        }
        assertEquals(3, images);
    }

    static int colours(BufferedImage img) {
        Set<Integer> c = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) for (int x = 0; x < img.getWidth(); x += 2) c.add(img.getRGB(x, y));
        return c.size();
    }

    @Test
    void noSettingWithinBudgetIsSaid() {
        SweepResult sweep = sweep();
        String html = HtmlReport.render(new Report("r", Map.of(), sweep, 1.0, null, List.of()));
        // coefficient 0 has ratio exactly 1, so only those rows qualify; the best of them is the first
        assertTrue(html.contains("<b>layer 1, coefficient 0.0</b>"), "ratio 1.0 is within a budget of 1.0");
        String strict = HtmlReport.render(new Report("r", Map.of(), new SweepResult("joy", List.of("anger"), sweep.rows().subList(1, 4)), 1.0, null, List.of()));
        assertTrue(strict.contains("No setting keeps the perplexity ratio within 1.000"));
        assertFalse(strict.contains("class=\"best\""));
        // one layer: no heatmap
        assertEquals(2, strict.split("data:image/png;base64,", -1).length - 1);
    }

    @Test
    void heatmapScaleEndsAreRound() {
        assertEquals(2.5, SweepCharts.niceCeiling(2.4063149081035093));
        assertEquals(0.035, SweepCharts.niceCeiling(0.03401));
        assertEquals(120.0, SweepCharts.niceCeiling(113.2));
        assertEquals(10.0, SweepCharts.niceCeiling(10.0));
        assertEquals(1.0, SweepCharts.niceCeiling(0));
        assertEquals("0.00", SweepCharts.valuePattern(2.5));
        assertEquals("0.00", SweepCharts.valuePattern(120));
        assertEquals("0.000", SweepCharts.valuePattern(0.035));
        assertEquals("0.00000", SweepCharts.valuePattern(0.00012));
    }

    @Test
    void formatting() {
        assertEquals("1.235", HtmlReport.num(1.23456));
        assertEquals("1.23e-05", HtmlReport.num(1.23e-5));
        assertEquals("0.000", HtmlReport.num(0));
        assertEquals("n/a", HtmlReport.num(Double.NaN));
        assertEquals("0.000 [-0.023, 0.023]", HtmlReport.interval(1.73e-18, -0.0231, 0.0231));
        assertEquals("0.000 [-0.023, 0.023]", HtmlReport.interval(-1.73e-18, -0.0231, 0.0231));
        assertEquals("0.00000120 [0.00000100, 0.00000140]", HtmlReport.interval(1.2e-6, 1.0e-6, 1.4e-6));
        assertEquals("5.000 [4.215, 5.785]", HtmlReport.interval(5, 4.2151, 5.7849));
        assertEquals("0.500 [n/a, n/a]", HtmlReport.interval(0.5, Double.NaN, Double.NaN));
        assertEquals("0.000 [0.000, 0.000]", HtmlReport.interval(0, 0, 0));
        assertEquals("<0.0001", HtmlReport.p(3e-7));
        assertEquals("p &lt; 0.0001", HtmlReport.pClause(3e-7));
        assertEquals("p = 0.250", HtmlReport.pClause(0.25));
        assertEquals("0.0072", HtmlReport.p(0.0071618));
        assertEquals("0.250", HtmlReport.p(0.25));
    }

    @Test
    void badReportsAreRejected() {
        SweepResult sweep = sweep();
        assertEquals("perplexity budget must be >= 1, got 0.9", assertThrows(IllegalArgumentException.class, () -> new Report("r", Map.of(), sweep, 0.9, null, List.of())).getMessage());
        assertEquals("report examples need the setting that produced them",
                assertThrows(IllegalArgumentException.class, () -> new Report("r", Map.of(), sweep, 1.1, " ", List.of(new GenerationExample("a", "b", "c")))).getMessage());
    }

    @Test
    void theTradeOffMarksTheBudgetTheChosenSettingAndEveryCoefficientAndTheColourBarHasATitle() throws IOException {
        SweepResult sweep = sweep();
        var chart = SweepCharts.tradeOff(sweep, 1.1);
        var series = chart.getSeriesMap();
        var budget = series.get("budget: perplexity x1.1");
        assertEquals(List.of(1.1, 1.1), List.of(budget.getYData()[0], budget.getYData()[1]), "a horizontal line at the budget");
        double[] effects = sweep.rows().stream().mapToDouble(r -> r.evaluation().onTarget().mean()).sorted().toArray();
        assertTrue(budget.getXData()[0] < effects[0] && budget.getXData()[1] > effects[effects.length - 1], "across every point");
        SweepRow best = sweep.best(1.1).orElseThrow();
        var chosen = series.get("chosen: layer 2, coeff 4");
        assertEquals(best.evaluation().onTarget().mean(), chosen.getXData()[0]);
        assertEquals(best.evaluation().perplexity().ratio(), chosen.getYData()[0]);
        SweepCharts.PointLabels labels = ((SweepCharts.LabelledChart) chart).labels;
        assertEquals(sweep.rows().size(), labels.texts.size(), "one label per setting");
        assertEquals(Set.of("0", "2", "4", "8"), Set.copyOf(labels.texts));
        assertEquals("-0.5", SweepCharts.coefficientLabel(-0.5));
        assertEquals("1.25", SweepCharts.coefficientLabel(1.25));
        // no setting within the budget: the line, but no chosen point
        assertFalse(SweepCharts.tradeOff(new SweepResult("joy", List.of("anger"), sweep.rows().subList(1, 4)), 1.0).getSeriesMap().keySet().stream()
                .anyMatch(k -> k.startsWith("chosen")));

        var heat = (SweepCharts.TitledColourBar) SweepCharts.heatmap(sweep);
        assertEquals("on-target effect (joy, steered - unsteered)", heat.colourBarTitle);
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(SweepCharts.png(heat)));
        assertEquals(SweepCharts.WIDTH, png.getWidth());
        assertEquals(SweepCharts.HEIGHT, png.getHeight());
        assertEquals(SweepCharts.WIDTH, heat.getWidth(), "drawing keeps the chart's size");
        int dark = 0;
        for (int y = 0; y < png.getHeight(); y++) {
            for (int x = png.getWidth() - 18; x < png.getWidth(); x++) if ((png.getRGB(x, y) & 0xff) < 128) dark++;
        }
        assertTrue(dark > 100, "the title is drawn in the strip at the right edge (" + dark + " dark pixels)");
        Files.write(dir.resolve("trade-off.png"), SweepCharts.png(chart));
    }
}
