package io.jsteer.cli.io;

import io.jsteer.steering.eval.Effect;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.PerplexityChange;
import io.jsteer.steering.eval.Summary;
import java.util.Locale;

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

    private static String pValue(double p) {
        return Double.isNaN(p) ? "n/a" : String.format(Locale.ROOT, "%.2g", p);
    }
}
