/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.PerplexityChange;
import io.jsteer.steering.eval.Summary;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Evaluations as short human-readable text for the terminal. */
public final class EvaluationText {
    private EvaluationText() {}

    /** Several lines: on-target effect, perplexity ratio, each spillover effect. */
    public static String describe(Evaluation e) {
        StringBuilder b = new StringBuilder();
        b.append("steering:   ").append(e.intervention()).append('\n');
        b.append("on-target:  ").append(effect(e.onTarget())).append('\n');
        PerplexityChange p = e.perplexity();
        b.append(String.format(Locale.ROOT, "perplexity: x%.3f [%.3f, %.3f] (%.2f -> %.2f), p=%s%n", p.ratio(), p.low(), p.high(),
                p.unsteeredPerplexity(), p.steeredPerplexity(), pValue(p.pValue())));
        for (Effect s : e.spillover()) b.append("spillover:  ").append(effect(s)).append('\n');
        return b.toString();
    }

    /** {@code name: unsteered -> steered, change +d [low, high], p=..., n=...}. */
    public static String effect(Effect e) {
        Summary d = e.difference();
        return String.format(Locale.ROOT, "%s: %.4g -> %.4g, change %+.4g [%.4g, %.4g], p=%s, n=%d", e.measure(), e.unsteered().mean(), e.steered().mean(),
                d.mean(), d.low(), d.high(), pValue(e.pValue()), d.n());
    }

    /**
     * The evaluation as a JSON-ready tree in the shape of a row of {@code sweep.json}: snake_case
     * keys {@code intervention}, {@code on_target}, {@code perplexity} (the per-text NLL effect plus
     * {@code ratio}, {@code ratio_low}, {@code ratio_high}) and {@code spillover}; each effect has
     * {@code measure}, {@code unsteered}, {@code steered}, {@code difference} (n, mean, sd, low, high)
     * and {@code p_value}. Undefined statistics (NaN) are null.
     */
    public static Map<String, Object> json(Evaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("intervention", e.intervention());
        m.put("on_target", effectJson(e.onTarget()));
        PerplexityChange p = e.perplexity();
        Map<String, Object> ppl = effectJson(p.nll());
        ppl.put("ratio", number(p.ratio()));
        ppl.put("ratio_low", number(p.low()));
        ppl.put("ratio_high", number(p.high()));
        m.put("perplexity", ppl);
        m.put("spillover", e.spillover().stream().map(EvaluationText::effectJson).toList());
        return m;
    }

    private static Map<String, Object> effectJson(Effect e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("measure", e.measure());
        m.put("unsteered", summaryJson(e.unsteered()));
        m.put("steered", summaryJson(e.steered()));
        m.put("difference", summaryJson(e.difference()));
        m.put("p_value", number(e.pValue()));
        return m;
    }

    private static Map<String, Object> summaryJson(Summary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", s.n());
        m.put("mean", number(s.mean()));
        m.put("sd", number(s.sd()));
        m.put("low", number(s.low()));
        m.put("high", number(s.high()));
        return m;
    }

    private static Double number(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String pValue(double p) {
        return Double.isNaN(p) ? "n/a" : String.format(Locale.ROOT, "%.2g", p);
    }
}
