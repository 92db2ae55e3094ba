/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import java.awt.Color;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Plots of a sweep, drawn off-screen (no display needed) and encoded as PNG. */
public final class SweepCharts {
    static {
        // charts are drawn into images only; never look for a display
        System.setProperty("java.awt.headless", "true");
    }

    /** Pixel size of every chart. */
    public static final int WIDTH = 800, HEIGHT = 500;

    private SweepCharts() {}

    /**
     * The sweep's plots: effect against coefficient, the on/off-target trade-off and, when both
     * layers and coefficients vary, the layer x coefficient heat map.
     */
    public static List<Plot> plots(SweepResult sweep) {
        List<Plot> plots = new ArrayList<>();
        plots.add(plot("effect-vs-coefficient.png", effectVsCoefficient(sweep),
                "On-target effect against coefficient; one line per layer, bars are 95% confidence intervals."));
        plots.add(plot("trade-off.png", tradeOff(sweep), "Trade-off: each point is a setting; lower is less damage, further right is more effect."));
        long layers = sweep.rows().stream().map(r -> r.point().layer()).distinct().count();
        long coefficients = sweep.rows().stream().map(r -> r.point().coefficient()).distinct().count();
        if (layers > 1 && coefficients > 1) {
            plots.add(plot("effect-heatmap.png", heatmap(sweep), "On-target effect over layer and coefficient (blue: against the target, red: towards it)."));
        }
        return plots;
    }

    private static Plot plot(String file, Chart<?, ?> chart, String caption) {
        return new Plot(file, chart.getTitle(), chart.getWidth(), chart.getHeight(), png(chart), caption);
    }

    /**
     * Mean on-target effect against the coefficient, one line per layer (and k), with 95%
     * confidence intervals as error bars where defined.
     */
    public static XYChart effectVsCoefficient(SweepResult sweep) {
        XYChart chart = xyChart("On-target effect vs coefficient", "coefficient", "on-target effect (" + sweep.target() + ", steered - unsteered)");
        for (Map.Entry<String, List<SweepRow>> line : lines(sweep).entrySet()) {
            List<SweepRow> rows = line.getValue();
            double[] x = rows.stream().mapToDouble(r -> r.point().coefficient()).toArray();
            double[] y = rows.stream().mapToDouble(r -> r.evaluation().onTarget().mean()).toArray();
            double[] err = rows.stream().mapToDouble(r -> r.evaluation().onTarget().difference().high() - r.evaluation().onTarget().mean()).toArray();
            boolean defined = Arrays.stream(err).allMatch(Double::isFinite);
            XYSeries s = defined ? chart.addSeries(line.getKey(), x, y, err) : chart.addSeries(line.getKey(), x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /**
     * The trade-off: perplexity ratio (damage) against on-target effect, one line per layer (and
     * k) running through its coefficients in order. Good settings sit low and to the right.
     */
    public static XYChart tradeOff(SweepResult sweep) {
        XYChart chart = xyChart("On-target effect vs off-target damage", "on-target effect (" + sweep.target() + ")", "perplexity ratio (steered / unsteered)");
        for (Map.Entry<String, List<SweepRow>> line : lines(sweep).entrySet()) {
            List<SweepRow> rows = line.getValue();
            double[] x = rows.stream().mapToDouble(r -> r.evaluation().onTarget().mean()).toArray();
            double[] y = rows.stream().mapToDouble(r -> r.evaluation().perplexity().ratio()).toArray();
            chart.addSeries(line.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /**
     * Mean on-target effect over layer x coefficient; with several k, each cell shows the k with
     * the largest effect.
     */
    public static HeatMapChart heatmap(SweepResult sweep) {
        TreeSet<Double> coefficients = new TreeSet<>();
        TreeSet<Integer> layers = new TreeSet<>();
        Map<List<Number>, Double> best = new LinkedHashMap<>();
        for (SweepRow r : sweep.rows()) {
            SweepPoint p = r.point();
            coefficients.add(p.coefficient());
            layers.add(p.layer());
            best.merge(List.of(p.layer(), p.coefficient()), r.evaluation().onTarget().mean(), Math::max);
        }
        List<Double> xs = new ArrayList<>(coefficients);
        List<Integer> ys = new ArrayList<>(layers);
        List<Number[]> cells = new ArrayList<>();
        best.forEach((key, v) -> cells.add(new Number[] {xs.indexOf((Double) key.get(1)), ys.indexOf((Integer) key.get(0)), v}));
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT)
                .title("On-target effect by layer and coefficient" + (sweep.hasK() ? " (best k per cell)" : ""))
                .xAxisTitle("coefficient").yAxisTitle("layer").build();
        chart.getStyler().setShowValue(true)
                .setRangeColors(new Color[] {new Color(0x2166ac), new Color(0xf7f7f7), new Color(0xb2182b)});
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        // symmetric colour scale, so white means "no effect"; the legend prints its ends verbatim
        double extent = niceCeiling(best.values().stream().mapToDouble(Math::abs).max().orElse(0));
        chart.getStyler().setMin(-extent).setMax(extent);
        chart.getStyler().setHeatMapValueDecimalPattern(valuePattern(extent));
        chart.addSeries("effect", xs, ys, cells);
        return chart;
    }

    /** Cell label format: at least two decimals, and two significant digits at the scale's end, so small effects do not print as 0.00. */
    static String valuePattern(double extent) {
        return "0." + "0".repeat(Math.max(2, 1 - (int) Math.floor(Math.log10(extent))));
    }

    /** The smallest number of two significant digits that is {@code >= x} (1 for 0): 2.406 -> 2.5. */
    static double niceCeiling(double x) {
        if (!(x > 0)) return 1;
        BigDecimal d = new BigDecimal(x);
        int digits = d.precision() - d.scale(); // digits before the point, negative for 0.00x
        return d.setScale(2 - digits, RoundingMode.CEILING).doubleValue();
    }

    /** The chart as PNG bytes. */
    public static byte[] png(Chart<?, ?> chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode chart '" + chart.getTitle() + "' as PNG", e);
        }
    }

    private static XYChart xyChart(String title, String x, String y) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        return chart;
    }

    /** Rows grouped per layer (and k), groups in layer then k order, each ordered by coefficient. */
    static Map<String, List<SweepRow>> lines(SweepResult sweep) {
        List<SweepRow> sorted = new ArrayList<>(sweep.rows());
        sorted.sort(Comparator.comparingInt((SweepRow r) -> r.point().layer())
                .thenComparingInt(r -> r.point().k().orElse(0))
                .thenComparingDouble(r -> r.point().coefficient()));
        Map<String, List<SweepRow>> out = new LinkedHashMap<>();
        for (SweepRow r : sorted) {
            SweepPoint p = r.point();
            String name = "layer " + p.layer() + (p.k().isPresent() ? ", k=" + p.k().getAsInt() : "");
            out.computeIfAbsent(name, n -> new ArrayList<>()).add(r);
        }
        return out;
    }
}
