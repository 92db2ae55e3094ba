/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import io.jsteer.steering.eval.AtomicFiles;
import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.PerplexityChange;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A single self-contained HTML file: inline CSS, plots as base64 PNG data URIs, no script and
 * nothing fetched from the network, so it can be mailed or archived as is.
 */
public final class HtmlReport {
    private HtmlReport() {}

    static final String CSS = """
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
            h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
            table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}
            th{background:#f2f2f2;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            tr.best td{background:#fff4c2;font-weight:600}.kv th{width:14rem}
            .box{border:1px solid #e0c200;background:#fffbe6;padding:.6rem 1rem;border-radius:4px}
            figure{margin:1rem 0}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
            .gen td{white-space:pre-wrap;font-family:"DejaVu Sans Mono",monospace;font-size:.85rem;max-width:30rem}
            dl dt{font-weight:600;margin-top:.4rem}dl dd{margin-left:1.2rem}.muted{color:#666}
            """;

    /** Renders and writes the report atomically. */
    public static void write(Report report, Path file) {
        write(report, SweepCharts.plots(report.sweep(), report.maxPerplexityRatio()), file);
    }

    /** Renders and writes the report atomically, inlining {@code plots}. */
    public static void write(Report report, List<Plot> plots, Path file) {
        AtomicFiles.write(file, render(report, plots).getBytes(StandardCharsets.UTF_8));
    }

    /** The report's HTML text. */
    public static String render(Report r) {
        return render(r, SweepCharts.plots(r.sweep(), r.maxPerplexityRatio()));
    }

    /** The report's HTML text, inlining {@code plots}. */
    public static String render(Report r, List<Plot> plots) {
        SweepResult sweep = r.sweep();
        Optional<SweepRow> best = sweep.best(r.maxPerplexityRatio());
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>").append(esc(r.title())).append("</title>\n<style>\n")
                .append(CSS).append("</style></head>\n<body>\n<h1>").append(esc(r.title())).append("</h1>\n");
        metadata(h, r.metadata(), sweep);
        bestSetting(h, sweep, best, r.maxPerplexityRatio());
        h.append("<h2>Plots</h2>\n");
        for (Plot p : plots) figure(h, p);
        table(h, sweep, best);
        examples(h, r);
        glossary(h, r.maxPerplexityRatio());
        return h.append("</body></html>\n").toString();
    }

    private static void metadata(StringBuilder h, Map<String, String> meta, SweepResult sweep) {
        Evaluation first = sweep.rows().getFirst().evaluation();
        h.append("<h2>Model and steering</h2>\n<table class=\"kv\">\n");
        meta.forEach((k, v) -> h.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>\n"));
        kv(h, "On-target measure", sweep.target() + " (" + first.onTarget().difference().n() + " held-out prompts)");
        kv(h, "Spillover measures", sweep.spillover().isEmpty() ? "none" : String.join(", ", sweep.spillover()));
        kv(h, "Held-out texts for perplexity", Integer.toString(first.perplexity().nll().difference().n()));
        kv(h, "Unsteered baseline", "on-target score " + num(first.onTarget().unsteered().mean()) + ", perplexity " + num(first.perplexity().unsteeredPerplexity()));
        kv(h, "Settings evaluated", Integer.toString(sweep.rows().size()));
        h.append("</table>\n");
    }

    static void kv(StringBuilder h, String k, String v) {
        h.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>\n");
    }

    private static void bestSetting(StringBuilder h, SweepResult sweep, Optional<SweepRow> best, double budget) {
        h.append("<h2>Best setting</h2>\n<div class=\"box\">");
        if (best.isEmpty()) {
            h.append("No setting keeps the perplexity ratio within ").append(num(budget)).append("; see the table for the trade-off.");
        } else {
            SweepRow b = best.get();
            Evaluation e = b.evaluation();
            h.append("<p><b>").append(esc(b.point().toString())).append("</b>: ").append(esc(e.intervention())).append("</p>\n<p>On-target effect ")
                    .append(boldMean(effect(e.onTarget()))).append(", ").append(pClause(e.onTarget().pValue()))
                    .append("; perplexity ratio ").append(boldMean(ratio(e.perplexity()))).append(", ")
                    .append(pClause(e.perplexity().pValue())).append(".</p>\n");
            h.append("<p class=\"muted\">Largest mean on-target effect among settings with perplexity ratio &le; ").append(num(budget)).append(".</p>");
        }
        h.append("</div>\n");
    }

    static void figure(StringBuilder h, Plot p) {
        String data = Base64.getEncoder().encodeToString(p.png());
        h.append("<figure><img alt=\"").append(esc(p.title())).append("\" width=\"").append(p.width()).append("\" height=\"").append(p.height())
                .append("\" src=\"data:image/png;base64,").append(data).append("\"><figcaption>").append(esc(p.caption())).append("</figcaption></figure>\n");
    }

    private static void table(StringBuilder h, SweepResult sweep, Optional<SweepRow> best) {
        boolean hasK = sweep.hasK();
        h.append("<h2>Sweep</h2>\n<table class=\"sweep\">\n<tr><th>layer</th><th>coefficient</th>");
        if (hasK) h.append("<th>k</th>");
        h.append("<th>on-target effect [95% CI]</th><th>p</th><th>perplexity ratio [95% CI]</th><th>p</th>");
        for (String s : sweep.spillover()) h.append("<th>spillover: ").append(esc(s)).append(" [95% CI]</th><th>p</th>");
        h.append("</tr>\n");
        for (SweepRow row : sweep.rows()) {
            Evaluation e = row.evaluation();
            boolean isBest = best.isPresent() && best.get() == row;
            h.append(isBest ? "<tr class=\"best\">" : "<tr>").append(cell(Integer.toString(row.point().layer()))).append(cell(num(row.point().coefficient())));
            if (hasK) h.append(cell(row.point().k().isPresent() ? Integer.toString(row.point().k().getAsInt()) : "-"));
            h.append(cell(effect(e.onTarget()))).append(cell(p(e.onTarget().pValue())));
            PerplexityChange ppl = e.perplexity();
            h.append(cell(ratio(ppl))).append(cell(p(ppl.pValue())));
            for (Effect s : e.spillover()) h.append(cell(effect(s))).append(cell(p(s.pValue())));
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void examples(StringBuilder h, Report r) {
        if (r.examples().isEmpty()) return;
        h.append("<h2>Example generations</h2>\n<p>Steered with ").append(esc(r.examplesSetting())).append(".</p>\n")
                .append("<table class=\"gen\">\n<tr><th>prompt</th><th>unsteered</th><th>steered</th></tr>\n");
        for (GenerationExample g : r.examples()) {
            h.append("<tr><td>").append(esc(g.prompt())).append("</td><td>").append(esc(g.unsteered())).append("</td><td>").append(esc(g.steered())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void glossary(StringBuilder h, double budget) {
        h.append("<h2>How to read the numbers</h2>\n<dl>\n");
        dt(h, "On-target effect", "mean over held-out prompts of the target score with steering minus without (same prompt, paired); positive means towards the target behaviour.");
        dt(h, "[95% CI]", "95% confidence interval of that mean from the t distribution: mean ± t(0.975, n−1) · sd / √n.");
        dt(h, "p", "two-sided paired t-test p-value: how likely a mean change at least this large would be if steering changed nothing.");
        dt(h, "Perplexity ratio", "exp of the mean change in per-token negative log-likelihood on held-out text (teacher-forced, steering at every position); 1 = no damage, 1.1 = 10% more perplexed.");
        dt(h, "Spillover", "the same paired effect for behaviours that should not move; values near 0 mean the steering stays on target.");
        dt(h, "Best setting", "largest on-target effect among settings whose perplexity ratio is at most " + num(budget) + ".");
        h.append("</dl>\n");
    }

    private static void dt(StringBuilder h, String term, String text) {
        h.append("<dt>").append(esc(term)).append("</dt><dd>").append(esc(text)).append("</dd>\n");
    }

    private static String cell(String s) {
        return "<td class=\"n\">" + esc(s) + "</td>";
    }

    private static String effect(Effect e) {
        return interval(e.mean(), e.difference().low(), e.difference().high());
    }

    /** {@code <b>mean</b> [low, high]} from the output of {@link #interval}. */
    private static String boldMean(String interval) {
        int space = interval.indexOf(' ');
        return "<b>" + interval.substring(0, space) + "</b>" + interval.substring(space);
    }

    private static String ratio(PerplexityChange p) {
        return interval(p.ratio(), p.low(), p.high());
    }

    /**
     * {@code mean [low, high]} with as many decimals (at least 3) as give the interval's half-width
     * two significant digits, so noise far below the interval's scale reads as 0.
     */
    static String interval(double mean, double low, double high) {
        double half = (high - low) / 2;
        if (!(half > 0)) return num(mean) + " [" + num(low) + ", " + num(high) + "]";
        String f = "%." + Math.max(3, Math.min(12, 1 - (int) Math.floor(Math.log10(half)))) + "f";
        return fixed(f, mean) + " [" + fixed(f, low) + ", " + fixed(f, high) + "]";
    }

    private static String fixed(String format, double v) {
        String s = String.format(Locale.ROOT, format, v);
        return s.matches("-0\\.0*") ? s.substring(1) : s;
    }

    /** Three decimals, or three significant digits for very small or large values. */
    static String num(double v) {
        if (Double.isNaN(v)) return "n/a";
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e5)) return String.format(Locale.ROOT, "%.3g", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String p(double v) {
        if (Double.isNaN(v)) return "n/a";
        if (v < 1e-4) return "<0.0001";
        return String.format(Locale.ROOT, v < 0.01 ? "%.2g" : "%.3f", v);
    }

    /** {@code p = 0.012} or {@code p < 0.0001}, HTML-escaped. */
    static String pClause(double v) {
        String s = p(v);
        return esc(s.startsWith("<") ? "p " + s.charAt(0) + " " + s.substring(1) : "p = " + s);
    }

    /** Escapes text for HTML element content and attribute values. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
