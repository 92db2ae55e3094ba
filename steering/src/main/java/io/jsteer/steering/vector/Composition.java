/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.steering.Intervention;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Several added vectors combined by a stated rule. Vectors at different hook points never
 * interact; at one hook point, for each row {@code t}, let {@code a_1 .. a_m} be
 * {@code coefficient * vector} of the parts whose position rule selects {@code t}, in the order
 * given (for {@link Rule#PRIORITY}: highest priority first). The row gets {@code x[t] += u} with
 *
 * <pre>
 *   SUM:       u = a_1 + ... + a_m, added one part after another in float (exactly what attaching
 *              the {@link AddVector}s one by one does; the default everywhere vectors meet)
 *   MAX_NORM:  s = a_1 + ... + a_m (double);  u = s * min(1, M / |s|)
 *              (the combined addition keeps its direction and is capped at norm M)
 *   PRIORITY:  r_j = a_j - P_{j-1} a_j, P_{j-1} the orthogonal projection on span(a_1 .. a_{j-1})
 *              (Gram-Schmidt in the given order: each part keeps only what is new relative to the
 *              parts above it, so no lower part can cancel, amplify or tilt a higher part's effect
 *              along the higher part's own direction); then, with a cap M, the budget is filled
 *              in order: r_j is kept whole while |r_1 + .. + r_j| &lt;= M (the r_j are orthogonal, so
 *              |r_1 + .. + r_j|^2 = sum |r_i|^2), the first r_j that would exceed it is scaled to
 *              fill the budget exactly and later parts are dropped;  u = the kept sum
 * </pre>
 * {@code M = +infinity} means no cap (PRIORITY only; MAX_NORM needs a finite {@code M > 0}).
 * MAX_NORM and PRIORITY compute {@code u} in double precision and add it rounded to float; a part
 * whose remainder {@code |r_j|} is below {@code 1e-12 |a_j|} (it lies in the span of the parts above)
 * contributes nothing. {@code u} depends only on which parts select the row, so it is computed once
 * per set of selecting parts.
 */
public final class Composition implements Intervention {
    /** How the parts at one hook point combine. */
    public enum Rule {
        /** Plain sum in the given order. */
        SUM,
        /** The sum, scaled down to norm {@code M} when longer. */
        MAX_NORM,
        /** Gram-Schmidt in priority order, then an optional norm budget filled in that order. */
        PRIORITY
    }

    private final List<AddVector> parts;
    private final Rule rule;
    private final double maxNorm;
    private final Map<HookName, List<AddVector>> byHook = new LinkedHashMap<>();

    /**
     * Combines {@code parts} (in order; for PRIORITY the first is the highest) by {@code rule};
     * {@code maxNorm} is {@code M} (finite and {@code > 0} for MAX_NORM, {@code +infinity} or
     * finite {@code > 0} for PRIORITY, ignored by SUM). At most 62 parts may share a hook point.
     */
    public Composition(List<AddVector> parts, Rule rule, double maxNorm) {
        if (parts == null || parts.isEmpty()) throw new IllegalArgumentException("a composition needs at least one vector");
        if (rule == null) throw new IllegalArgumentException("a composition needs a rule");
        if (rule == Rule.MAX_NORM && !(maxNorm > 0 && Double.isFinite(maxNorm))) throw new IllegalArgumentException("max-norm needs a finite norm > 0, got " + maxNorm);
        if (rule == Rule.PRIORITY && !(maxNorm > 0)) throw new IllegalArgumentException("priority's norm budget must be > 0 (or none), got " + maxNorm);
        this.parts = List.copyOf(parts);
        this.rule = rule;
        this.maxNorm = maxNorm;
        for (AddVector p : this.parts) byHook.computeIfAbsent(p.vector().hook(), h -> new ArrayList<>()).add(p);
        for (var e : byHook.entrySet()) {
            if (e.getValue().size() > 62) throw new IllegalArgumentException("at most 62 vectors at one hook point, got " + e.getValue().size() + " at " + e.getKey());
        }
    }

    /** The spellings {@link #parse} accepts, for help texts and error messages. */
    public static final String RULES = "sum, max-norm:M, priority or priority:M (M a norm > 0)";

    /** Combines {@code parts} by a rule written {@code sum}, {@code max-norm:M}, {@code priority} or {@code priority:M}. */
    public static Composition parse(String rule, List<AddVector> parts) {
        String r = rule == null ? "" : rule.strip();
        int colon = r.indexOf(':');
        String name = colon < 0 ? r : r.substring(0, colon);
        double m = Double.POSITIVE_INFINITY;
        if (colon >= 0) {
            try {
                m = Double.parseDouble(r.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("composition rule '" + rule + "': '" + r.substring(colon + 1) + "' is not a number (expected " + RULES + ")");
            }
            if (!(m > 0) || !Double.isFinite(m)) throw new IllegalArgumentException("composition rule '" + rule + "': the norm must be finite and > 0");
        }
        return switch (name) {
            case "sum" -> {
                if (colon >= 0) throw new IllegalArgumentException("composition rule '" + rule + "': sum takes no norm (expected " + RULES + ")");
                yield new Composition(parts, Rule.SUM, m);
            }
            case "max-norm" -> {
                if (colon < 0) throw new IllegalArgumentException("composition rule 'max-norm' needs its norm, e.g. max-norm:8");
                yield new Composition(parts, Rule.MAX_NORM, m);
            }
            case "priority" -> new Composition(parts, Rule.PRIORITY, m);
            default -> throw new IllegalArgumentException("unknown composition rule '" + rule + "' (expected " + RULES + ")");
        };
    }

    /** The parts, in order. */
    public List<AddVector> parts() {
        return parts;
    }

    /** The rule. */
    public Rule rule() {
        return rule;
    }

    @Override
    public Hooks.Handle attach(State state) {
        List<Hooks.Handle> handles = new ArrayList<>();
        if (rule == Rule.SUM) {
            for (AddVector p : parts) handles.add(p.attach(state));
        } else {
            for (var e : byHook.entrySet()) {
                List<AddVector> at = e.getValue();
                Map<Long, float[]> combined = new ConcurrentHashMap<>();
                handles.add(state.hooks().add(e.getKey(), (ctx, x) -> add(ctx, x, at, combined)));
            }
        }
        return () -> {
            for (int i = handles.size() - 1; i >= 0; i--) handles.get(i).close();
        };
    }

    private void add(HookContext ctx, float[] x, List<AddVector> at, Map<Long, float[]> combined) {
        int d = at.getFirst().vector().width();
        if (ctx.width() != d) throw new IllegalArgumentException("steering vectors for " + ctx.name() + " have " + d + " values, the hook has " + ctx.width());
        for (int t = 0; t < ctx.tokens(); t++) {
            long mask = 0;
            for (int j = 0; j < at.size(); j++) if (at.get(j).positions().includes(ctx, t)) mask |= 1L << j;
            if (mask == 0) continue;
            float[] u = combined.computeIfAbsent(mask, m -> combine(at, m));
            int off = t * d;
            for (int i = 0; i < d; i++) x[off + i] += u[i];
        }
    }

    /** {@code u} for the parts of {@code at} whose bits are set in {@code mask}. */
    private float[] combine(List<AddVector> at, long mask) {
        List<double[]> a = new ArrayList<>();
        for (int j = 0; j < at.size(); j++) {
            if ((mask & (1L << j)) == 0) continue;
            AddVector p = at.get(j);
            float[] v = p.vector().direction();
            double[] s = new double[v.length];
            for (int i = 0; i < v.length; i++) s[i] = (float) (p.coefficient() * v[i]);
            a.add(s);
        }
        int d = a.getFirst().length;
        double[] u = new double[d];
        if (rule == Rule.MAX_NORM) {
            for (double[] s : a) for (int i = 0; i < d; i++) u[i] += s[i];
            double n = norm(u);
            if (n > maxNorm) for (int i = 0; i < d; i++) u[i] *= maxNorm / n;
        } else {
            List<double[]> basis = new ArrayList<>();
            double budget = maxNorm * maxNorm;
            for (double[] s : a) {
                double[] r = s.clone();
                for (double[] e : basis) {
                    double c = dot(r, e);
                    for (int i = 0; i < d; i++) r[i] -= c * e[i];
                }
                double nr = norm(r);
                if (!(nr > 1e-12 * norm(s))) continue;
                double[] e = new double[d];
                for (int i = 0; i < d; i++) e[i] = r[i] / nr;
                basis.add(e);
                double keep = nr * nr <= budget ? 1 : Math.sqrt(budget) / nr;
                for (int i = 0; i < d; i++) u[i] += keep * r[i];
                budget -= keep * keep * nr * nr;
                if (keep < 1) break;
            }
        }
        float[] out = new float[d];
        for (int i = 0; i < d; i++) {
            out[i] = (float) u[i];
            if (!Float.isFinite(out[i])) throw new IllegalArgumentException("the combined steering vector overflows float32 at index " + i);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    @Override
    public String describe() {
        String how = switch (rule) {
            case SUM -> "sum";
            case MAX_NORM -> String.format(Locale.ROOT, "max-norm %.4g", maxNorm);
            case PRIORITY -> Double.isInfinite(maxNorm) ? "priority" : String.format(Locale.ROOT, "priority, norm budget %.4g", maxNorm);
        };
        List<String> each = new ArrayList<>();
        for (AddVector p : parts) each.add(p.describe());
        return "compose (" + how + "): " + String.join("; ", each);
    }
}
