/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.DoubleSummaryStatistics;
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
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
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
     * The sweep's plots: effect against coefficient, the on/off-target trade-off (with the
     * perplexity budget {@code maxPerplexityRatio} and the setting chosen within it marked) and,
     * when both layers and coefficients vary, the layer x coefficient heat map.
     */
    public static List<Plot> plots(SweepResult sweep, double maxPerplexityRatio) {
        List<Plot> plots = new ArrayList<>();
        plots.add(plot("effect-vs-coefficient.png", effectVsCoefficient(sweep),
                "On-target effect against coefficient; one line per layer, bars are 95% confidence intervals."));
        plots.add(plot("trade-off.png", tradeOff(sweep, maxPerplexityRatio), "Trade-off: each point is a setting, labelled with its coefficient;"
                + " lower is less damage, further right is more effect. The dashed line is the perplexity budget, the diamond the setting chosen within it."));
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
     * k) running through its coefficients in order, each point labelled with its coefficient.
     * Good settings sit low and to the right. A dashed line marks the budget
     * {@code maxPerplexityRatio}, a diamond the setting {@link SweepResult#best} chooses within it.
     */
    public static XYChart tradeOff(SweepResult sweep, double maxPerplexityRatio) {
        LabelledChart chart = style(new LabelledChart(builder("On-target effect vs off-target damage", "on-target effect (" + sweep.target() + ")",
                "perplexity ratio (steered / unsteered)")));
        PointLabels labels = chart.labels;
        for (Map.Entry<String, List<SweepRow>> line : lines(sweep).entrySet()) {
            List<SweepRow> rows = line.getValue();
            double[] x = rows.stream().mapToDouble(r -> r.evaluation().onTarget().mean()).toArray();
            double[] y = rows.stream().mapToDouble(r -> r.evaluation().perplexity().ratio()).toArray();
            chart.addSeries(line.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
            for (int i = 0; i < rows.size(); i++) labels.add(x[i], y[i], coefficientLabel(rows.get(i).point().coefficient()));
        }
        DoubleSummaryStatistics effects = sweep.rows().stream().mapToDouble(r -> r.evaluation().onTarget().mean()).filter(Double::isFinite).summaryStatistics();
        if (effects.getCount() > 0) {
            // a line across every point, a little wider than they spread
            double pad = Math.max(1e-3, 0.05 * (effects.getMax() - effects.getMin()));
            XYSeries budget = chart.addSeries("budget: perplexity x" + coefficientLabel(maxPerplexityRatio),
                    new double[] {effects.getMin() - pad, effects.getMax() + pad}, new double[] {maxPerplexityRatio, maxPerplexityRatio});
            budget.setMarker(SeriesMarkers.NONE).setLineStyle(SeriesLines.DASH_DASH).setLineColor(Color.DARK_GRAY);
        }
        sweep.best(maxPerplexityRatio).ifPresent(best -> {
            SweepPoint p = best.point();
            XYSeries chosen = chart.addSeries("chosen: layer " + p.layer() + (p.k().isPresent() ? ", k=" + p.k().getAsInt() : "") + ", coeff "
                    + coefficientLabel(p.coefficient()), new double[] {best.evaluation().onTarget().mean()}, new double[] {best.evaluation().perplexity().ratio()});
            chosen.setMarker(SeriesMarkers.DIAMOND).setMarkerColor(Color.BLACK);
        });
        return chart;
    }

    /** A coefficient as its label on a plot: as short as it is exact ({@code 4}, {@code -0.5}, {@code 1.25}). */
    static String coefficientLabel(double c) {
        return BigDecimal.valueOf(c).stripTrailingZeros().toPlainString();
    }

    /** An XY chart with text beside its points. */
    static final class LabelledChart extends XYChart {
        final PointLabels labels = new PointLabels();

        LabelledChart(XYChartBuilder builder) {
            super(builder);
            addAnnotation(labels);
        }
    }

    /** Text beside points of an XY chart, placed in pixels (up and to the right of each point) so it never covers the marker. */
    static final class PointLabels extends Annotation {
        final List<double[]> points = new ArrayList<>();
        final List<String> texts = new ArrayList<>();

        PointLabels() {
            super(false);
        }

        void add(double x, double y, String text) {
            if (!Double.isFinite(x) || !Double.isFinite(y)) return;
            points.add(new double[] {x, y});
            texts.add(text);
        }

        @Override
        public void paint(Graphics2D g) {
            if (!isVisible) return;
            g.setFont(((AxesChartStyler) styler).getAxisTickLabelsFont());
            g.setColor(styler.getChartFontColor());
            for (int i = 0; i < points.size(); i++) {
                g.drawString(texts.get(i), getXAxisScreenValue(points.get(i)[0]) + 5, getYAxisScreenValue(points.get(i)[1]) - 5);
            }
            bounds = new Rectangle2D.Double();
        }
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
        HeatMapChart chart = new TitledColourBar(new HeatMapChartBuilder().width(WIDTH).height(HEIGHT)
                .title("On-target effect by layer and coefficient" + (sweep.hasK() ? " (best k per cell)" : ""))
                .xAxisTitle("coefficient").yAxisTitle("layer"), "on-target effect (" + sweep.target() + ", steered - unsteered)");
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

    /**
     * A heat map whose colour bar has a title, written along its right side (XChart's colour bar
     * has none): the chart is laid out in the width less a strip, and the title drawn in the strip.
     */
    static final class TitledColourBar extends HeatMapChart {
        final String colourBarTitle;

        TitledColourBar(HeatMapChartBuilder builder, String colourBarTitle) {
            super(builder);
            this.colourBarTitle = colourBarTitle;
        }

        @Override
        public void paint(Graphics2D g, int width, int height) {
            g.setFont(getStyler().getAxisTitleFont());
            FontMetrics fm = g.getFontMetrics();
            int strip = fm.getHeight() + 8;
            super.paint(g, width - strip, height);
            setWidth(width); // paint keeps the size it is given; the image is still the full width
            g.setColor(getStyler().getChartBackgroundColor());
            g.fillRect(width - strip, 0, strip, height);
            g.setFont(getStyler().getAxisTitleFont());
            g.setColor(getStyler().getChartFontColor());
            float x = width - strip + 4 + fm.getAscent(), y = (height + fm.stringWidth(colourBarTitle)) / 2f;
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2, x, y);
            g.drawString(colourBarTitle, x, y);
            g.setTransform(saved);
        }
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
        return style(builder(title, x, y).build());
    }

    private static XYChartBuilder builder(String title, String x, String y) {
        return new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y);
    }

    private static <C extends XYChart> C style(C chart) {
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
