/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import io.jsteer.steering.analysis.LogitLens.Cell;
import io.jsteer.steering.analysis.LogitLens.Lens;
import io.jsteer.steering.analysis.LogitLens.Stage;
import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/** Heat maps of the analysis commands (lens, patch, attention), drawn with XChart as the sweep's plots are. */
public final class AnalysisCharts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** White to dark blue, for values from 0 to a maximum (probabilities, attention weights). */
    static final Color[] SEQUENTIAL = {new Color(0xf7fbff), new Color(0x6baed6), new Color(0x08306b)};
    /** Blue, white, red, for signed values around 0 (as the sweep's heat map). */
    static final Color[] DIVERGING = {new Color(0x2166ac), new Color(0xf7f7f7), new Color(0xb2182b)};

    private AnalysisCharts() {}

    /**
     * Position labels that stay distinct when tokens repeat: {@code "3 ' John'"}.
     *
     * @param tokens the prompt's tokens as text
     * @return one label per position
     */
    public static List<String> positions(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (int t = 0; t < tokens.size(); t++) out.add(t + " " + quote(tokens.get(t)));
        return out;
    }

    /**
     * Position labels of two prompts side by side: {@code "1 ' bride'"} where they agree, {@code
     * "1 ' bride' / ' soldier'"} where they differ.
     *
     * @param clean   the clean prompt's tokens as text
     * @param corrupt the corrupted prompt's, as many
     * @return one label per position
     */
    public static List<String> positions(List<String> clean, List<String> corrupt) {
        List<String> out = new ArrayList<>(clean.size());
        for (int t = 0; t < clean.size(); t++) {
            String a = quote(clean.get(t)), b = quote(corrupt.get(t));
            out.add(t + " " + (a.equals(b) ? a : a + " / " + b));
        }
        return out;
    }

    private static String quote(String token) {
        return "'" + token.replace("\n", "\\n") + "'";
    }

    /**
     * The logit lens as stage x position: the probability of the {@code chosen} token (the lens'
     * first chosen one), or when {@code chosen} is null of the prompt's next token (the last
     * position, having none, is left blank).
     *
     * @param lens   the lens
     * @param tokens the prompt's tokens as text
     * @param chosen the first chosen token's text, or null
     * @return the chart
     */
    public static HeatMapChart lens(Lens lens, List<String> tokens, String chosen) {
        List<String> xs = positions(tokens);
        List<String> ys = new ArrayList<>();
        List<Number[]> cells = new ArrayList<>();
        double max = 0;
        for (int s = 0; s < lens.stages().size(); s++) {
            Stage stage = lens.stages().get(s);
            ys.add(stage.hook().toString().replace("blocks.", "").replace(".hook_", " "));
            for (Cell c : stage.positions()) {
                double p = chosen != null ? c.chosen().getFirst().probability() : c.next() != null ? c.next().probability() : Double.NaN;
                if (Double.isNaN(p)) continue;
                cells.add(new Number[] {c.position(), s, p});
                max = Math.max(max, p);
            }
        }
        String what = chosen != null ? "p('" + chosen + "')" : "p(next prompt token)";
        HeatMapChart chart = heatmap("Logit lens: " + what + " by stage and position", "position (token)", "stage", xs.size(), ys.size());
        // the scale ends at the largest probability shown, so that small ones are not all white
        double top = Math.min(1, SweepCharts.niceCeiling(max));
        chart.getStyler().setRangeColors(SEQUENTIAL).setMin(0).setMax(top).setHeatMapValueDecimalPattern(SweepCharts.valuePattern(top));
        chart.addSeries(what, xs, ys, cells);
        return chart;
    }

    /**
     * A chart as a {@link Plot}, encoded once.
     *
     * @param file    the file name it is written under
     * @param chart   the chart
     * @param caption how to read it
     * @return the plot
     */
    public static Plot plot(String file, Chart<?, ?> chart, String caption) {
        return new Plot(file, chart.getTitle(), chart.getWidth(), chart.getHeight(), SweepCharts.png(chart), caption);
    }

    /**
     * Activation patching at one hook point as layer x position. With {@code restored}, each cell
     * is the fraction of the clean logit difference the patch restores, {@code (patched - corrupt)
     * / (clean - corrupt)}, on a scale from -1 to 1; otherwise the patched logit difference itself,
     * on a scale symmetric around 0.
     *
     * @param hook   the hook point's name, e.g. {@code resid_pre}
     * @param values {@code [layer][position]}
     * @param tokens position labels (see {@link #positions})
     * @param restored whether the values are restored fractions
     * @return the chart
     */
    public static HeatMapChart patching(String hook, double[][] values, List<String> tokens, boolean restored) {
        List<String> xs = tokens;
        List<Integer> ys = new ArrayList<>();
        List<Number[]> cells = new ArrayList<>();
        double extent = 0;
        for (int l = 0; l < values.length; l++) {
            ys.add(l);
            for (int t = 0; t < values[l].length; t++) {
                cells.add(new Number[] {t, l, values[l][t]});
                extent = Math.max(extent, Math.abs(values[l][t]));
            }
        }
        String what = restored ? "fraction of the clean logit difference restored" : "logit difference";
        HeatMapChart chart = heatmap("Patching " + hook + ": " + what, "position (token)", "layer", xs.size(), ys.size());
        double range = restored ? Math.max(1, SweepCharts.niceCeiling(extent)) : SweepCharts.niceCeiling(extent);
        chart.getStyler().setRangeColors(DIVERGING).setMin(-range).setMax(range).setHeatMapValueDecimalPattern(SweepCharts.valuePattern(range));
        chart.addSeries(hook, xs, ys, cells);
        return chart;
    }

    /**
     * One head's attention pattern: query positions down (the first at the top), key positions
     * across, each cell the weight the query gives the key (rows sum to 1; keys after the query
     * are masked, 0). Weights are printed in the cells of prompts of up to 16 tokens.
     *
     * @param layer   the block
     * @param head    the head
     * @param pattern {@code [query][key]}
     * @param tokens  position labels (see {@link #positions})
     * @return the chart
     */
    public static HeatMapChart attention(int layer, int head, float[][] pattern, List<String> tokens) {
        int T = pattern.length;
        List<String> ys = new ArrayList<>(tokens.reversed());
        List<Number[]> cells = new ArrayList<>(T * T);
        for (int q = 0; q < T; q++) {
            for (int k = 0; k < T; k++) cells.add(new Number[] {k, T - 1 - q, pattern[q][k]});
        }
        boolean values = T <= 16;
        int cell = values ? 48 : Math.max(12, 640 / T);
        HeatMapChart chart = new HeatMapChartBuilder().width(300 + cell * T).height(260 + cell * T)
                .title("Block " + layer + ", head " + head).xAxisTitle("key (attended to)").yAxisTitle("query").build();
        chart.getStyler().setShowValue(values).setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(60);
        chart.getStyler().setRangeColors(SEQUENTIAL).setMin(0).setMax(1).setHeatMapValueDecimalPattern("0.00");
        chart.addSeries("weight", tokens, ys, cells);
        return chart;
    }

    /**
     * A layer x head heat map of signed values, such as per-head patching or attribution.
     *
     * @param title  the chart's title
     * @param values {@code [layer][head]}
     * @param fixedRange the colour scale's half-range, or 0 to fit the values
     * @return the chart
     */
    public static HeatMapChart layersByHeads(String title, double[][] values, double fixedRange) {
        List<Integer> xs = new ArrayList<>(), ys = new ArrayList<>();
        List<Number[]> cells = new ArrayList<>();
        double extent = 0;
        for (int h = 0; h < values[0].length; h++) xs.add(h);
        for (int l = 0; l < values.length; l++) {
            ys.add(l);
            for (int h = 0; h < values[l].length; h++) {
                cells.add(new Number[] {h, l, values[l][h]});
                extent = Math.max(extent, Math.abs(values[l][h]));
            }
        }
        HeatMapChart chart = heatmap(title, "head", "layer", xs.size(), ys.size());
        chart.getStyler().setXAxisLabelRotation(0);
        double range = fixedRange > 0 ? Math.max(fixedRange, SweepCharts.niceCeiling(extent)) : SweepCharts.niceCeiling(extent);
        chart.getStyler().setRangeColors(DIVERGING).setMin(-range).setMax(range).setHeatMapValueDecimalPattern(SweepCharts.valuePattern(range));
        chart.addSeries("value", xs, ys, cells);
        return chart;
    }

    /**
     * Direct logit attribution as bars: the embedding, each block's attention and MLP, the final
     * norm's bias, in the order they reach the stream.
     *
     * @param title  the chart's title
     * @param labels one per bar
     * @param values one per bar
     * @return the chart
     */
    public static CategoryChart bars(String title, List<String> labels, List<Double> values) {
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(SweepCharts.WIDTH, 200 + 44 * labels.size())).height(SweepCharts.HEIGHT)
                .title(title).xAxisTitle("part of the model").yAxisTitle("direct logit attribution").build();
        chart.getStyler().setLegendVisible(false).setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setSeriesColors(new Color[] {DIVERGING[2]});
        chart.addSeries("attribution", labels, values);
        return chart;
    }

    /**
     * A heat map sized for {@code columns x rows} cells: at least the sweep charts' size, wider
     * and taller as the cells need room for their labels and values (printed while they fit).
     */
    static HeatMapChart heatmap(String title, String x, String y, int columns, int rows) {
        // values are printed in the cells while they fit; past that the colours alone carry them
        boolean values = columns <= 24 && rows <= 40;
        int width = Math.max(SweepCharts.WIDTH, 260 + (values ? 64 : 24) * columns), height = Math.max(SweepCharts.HEIGHT, 220 + (values ? 34 : 16) * rows);
        HeatMapChart chart = new HeatMapChartBuilder().width(width).height(height).title(title).xAxisTitle(x).yAxisTitle(y).build();
        chart.getStyler().setShowValue(values).setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(45);
        return chart;
    }
}
