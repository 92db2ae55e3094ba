/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.cast;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.pca.Pca;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookContext;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.util.List;
import java.util.Locale;

/**
 * Conditional Activation Steering, CAST (Lee, Padhi, Natesan Ramamurthy, Miehling, Dognin,
 * Nagireddy, Dhurandhar 2024, "Programming Refusal with Conditional Activation Steering",
 * arXiv:2409.05907; reference code github.com/IBM/activation-steering,
 * {@code activation_steering/leash_layer.py} and {@code malleable_model.py}, also shipped in
 * AISteer360): a behaviour vector is added only to the sequences whose prompt matches a condition.
 *
 * <pre>
 *   fitting, on the condition contrast (positive prompts: the behaviour should apply; negative: it should not)
 *   h(p)      = prompt p's activation at the condition hook: the mean of its rows (aggregate=mean) or its last row (aggregate=last)
 *   c         = {@link Pca} of the pairs (h(p+_i), h(p-_i)), variant CENTER (IBM's default "pca_pairwise", repeng's pca_center)
 *   sim(h)    = cos(h, tanh(P h)),   P = c c^T / (c . c),  tanh elementwise
 *   (t, cmp)  = argmax F1 over t in {0, 0.01, ..., 0.99} (t_k = k * 0.01) and cmp in (larger, smaller),
 *               predicting "matches" when (sim > t) == (cmp == smaller), positives the F1's positive class;
 *               t ascending, larger before smaller, a later setting kept only on a strictly higher F1;
 *               then t rounded to 3 decimals (find_best_condition_point)
 *   steering, for each sequence on its own
 *   met       = the prompt's sim(h) &lt; t (cmp = larger: "the threshold is larger") or sim(h) &gt; t (cmp = smaller),
 *               decided when the condition hook sees the prompt (the first forward call of the sequence)
 *   behaviour: h_B(x)[t] += coeff * b at the selected positions of every call of that sequence if met, else nothing
 * </pre>
 * {@code b} is a saved steering vector with its own hook point (e.g. a {@code pca} or {@code caa}
 * vector fitted on refusal / compliance pairs); the threshold and comparator can also be given
 * instead of learnt. {@code sim} does not depend on {@code c}'s sign ({@code tanh} is odd), so
 * PCA's sign vote does not matter here.
 *
 * <p>Where this differs from IBM's code, and why: (1) IBM decides for row 0 of the batch and
 * applies that decision to the whole batch; here every sequence decides for itself, also inside a
 * batch. (2) IBM fits {@code c} on {@code hidden_states[L + 1]} (block {@code L}'s output) but
 * checks it on block {@code L}'s input; here one hook point serves both. (3) The search predicts
 * "matches" for {@code larger} when {@code sim <= t} while the steering tests {@code sim < t}; both
 * are kept as IBM has them (they differ only at {@code sim == t} exactly). (4) IBM's optional
 * norm-preserving rescale ({@code use_ooi_preventive_normalization}, off by default) and its
 * multi-condition rules are not implemented. The behaviour hook must not run before the condition
 * hook in the forward pass (a later layer, or the same point attached after it); a sequence whose
 * behaviour hook sees its prompt before the condition was decided is refused.
 */
public final class Cast implements SteeringMethod {
    /** How a prompt's rows at the condition hook become one activation ({@code condition_threshold_comparison_mode}). */
    public enum Aggregate {
        /** The mean over the prompt's rows (IBM's default). */
        MEAN,
        /** The prompt's last row. */
        LAST
    }

    /** IBM's {@code condition_comparator_threshold_is}: which side of the similarity the threshold lies. */
    public enum Comparator {
        /** The threshold is larger: the condition is met when {@code sim < t}. */
        LARGER,
        /** The threshold is smaller: the condition is met when {@code sim > t}. */
        SMALLER
    }

    /**
     * A condition's threshold and comparator, with the F1 the search reached on the contrast
     * prompts ({@code NaN} when they were given, not learnt).
     *
     * @param threshold  {@code t}
     * @param comparator which side of {@code t} matches
     * @param f1         F1 of the search's prediction rule on the contrast prompts
     */
    public record Condition(double threshold, Comparator comparator, double f1) {
        public Condition {
            if (!Double.isFinite(threshold)) throw new IllegalArgumentException("CAST threshold must be finite, got " + threshold);
            if (comparator == null) throw new IllegalArgumentException("CAST needs a comparator");
        }

        /** Whether a prompt of similarity {@code sim} gets the behaviour (the steering rule: strict comparisons). */
        public boolean met(double sim) {
            return comparator == Comparator.LARGER ? sim < threshold : sim > threshold;
        }
    }

    private final HookName conditionHook;
    private final SteeringVector behaviour;
    private final double coefficient;
    private final Aggregate aggregate;
    private final PositionRule positions;
    private final Condition given;

    /**
     * Learns the condition at {@code conditionHook} from the contrast prompts and adds
     * {@code coefficient * behaviour} at {@code positions} of the sequences that meet it;
     * {@code given} (nullable) fixes threshold and comparator instead of searching for them.
     */
    public Cast(HookName conditionHook, SteeringVector behaviour, double coefficient, Aggregate aggregate, PositionRule positions, Condition given) {
        if (conditionHook == null || behaviour == null || aggregate == null || positions == null) {
            throw new IllegalArgumentException("CAST needs a condition hook point, a behaviour vector, an aggregate and a position rule");
        }
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        if (behaviour.hook().layer() < conditionHook.layer()) {
            throw new IllegalArgumentException("CAST's behaviour vector at " + behaviour.hook() + " would act before the condition at " + conditionHook
                    + " is decided: put the condition at layer " + behaviour.hook().layer() + " or earlier");
        }
        behaviour.requireDirection();
        this.conditionHook = conditionHook;
        this.behaviour = behaviour;
        this.coefficient = coefficient;
        this.aggregate = aggregate;
        this.positions = positions;
        this.given = given;
    }

    @Override
    public String name() {
        return "cast";
    }

    @Override
    public Conditional fit(Model model, ContrastSet data) {
        behaviour.requireCompatible(model.config());
        data.requirePaired();
        Readout readout = aggregate == Aggregate.MEAN ? Readout.mean() : Readout.last();
        double[][] pos = rows(model, data.positive(), readout);
        double[][] neg = rows(model, data.negative(), readout);
        double[] c = Pca.direction(pos, neg, Pca.Variant.CENTER).unit();
        double[] simPos = new double[pos.length], simNeg = new double[neg.length];
        for (int i = 0; i < pos.length; i++) simPos[i] = similarity(pos[i], c);
        for (int i = 0; i < neg.length; i++) simNeg[i] = similarity(neg[i], c);
        Condition condition = given != null ? given : search(simPos, simNeg);
        return new Conditional(conditionHook, c, aggregate, condition, behaviour, coefficient, positions);
    }

    private double[][] rows(Model model, List<int[]> prompts, Readout readout) {
        Activations a = ActivationCache.record(model, prompts, List.of(conditionHook), readout);
        double[][] out = new double[prompts.size()][];
        for (int p = 0; p < out.length; p++) {
            float[] r = a.rows(conditionHook, p);
            out[p] = new double[r.length];
            for (int i = 0; i < r.length; i++) out[p][i] = r[i];
        }
        return out;
    }

    /** {@code cos(h, tanh(P h))} with {@code P = c c^T / (c . c)}; 0 when either side is zero. */
    public static double similarity(double[] h, double[] c) {
        if (h.length != c.length) throw new IllegalArgumentException("activation has " + h.length + " values, the condition vector " + c.length);
        double ch = 0, cc = 0;
        for (int i = 0; i < c.length; i++) {
            ch += c[i] * h[i];
            cc += c[i] * c[i];
        }
        double scale = ch / cc, ht = 0, hh = 0, tt = 0;
        for (int i = 0; i < c.length; i++) {
            double t = Math.tanh(c[i] * scale);
            ht += h[i] * t;
            hh += h[i] * h[i];
            tt += t * t;
        }
        return hh > 0 && tt > 0 ? ht / Math.sqrt(hh * tt) : 0;
    }

    /** IBM's {@code find_best_condition_point} grid search on one layer; see the class comment. */
    public static Condition search(double[] positiveSims, double[] negativeSims) {
        // with a positive prompt some setting flags it (larger at 0.99 flags sim <= 0.99, smaller at 0 flags sim > 0), so F1 > 0 is reached
        if (positiveSims.length == 0) throw new IllegalArgumentException("CAST's threshold search needs positive prompts");
        double best = 0;
        double threshold = Double.NaN;
        Comparator comparator = null;
        for (int k = 0; k < 100; k++) {
            double t = k * 0.01;
            for (Comparator cmp : Comparator.values()) {
                int tp = 0, fp = 0, fn = 0;
                for (double s : positiveSims) {
                    if ((s > t) == (cmp == Comparator.SMALLER)) tp++;
                    else fn++;
                }
                for (double s : negativeSims) if ((s > t) == (cmp == Comparator.SMALLER)) fp++;
                double f1 = 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
                if (f1 > best) {
                    best = f1;
                    threshold = t;
                    comparator = cmp;
                }
            }
        }
        return new Condition(Math.round(threshold * 1000) / 1000.0, comparator, best);
    }

    /** The fitted intervention: the condition, and the behaviour vector added to the sequences that meet it. */
    public static final class Conditional implements Intervention {
        private final HookName conditionHook;
        private final double[] conditionVector;
        private final Aggregate aggregate;
        private final Condition condition;
        private final SteeringVector behaviour;
        private final double coefficient;
        private final PositionRule positions;
        private final float[] scaled;

        /** {@code conditionVector} at {@code conditionHook}; {@code coefficient * behaviour} added at {@code positions} when {@code condition} is met. */
        public Conditional(HookName conditionHook, double[] conditionVector, Aggregate aggregate, Condition condition, SteeringVector behaviour,
                double coefficient, PositionRule positions) {
            this.conditionHook = conditionHook;
            this.conditionVector = conditionVector.clone();
            this.aggregate = aggregate;
            this.condition = condition;
            this.behaviour = behaviour;
            this.coefficient = coefficient;
            this.positions = positions;
            float[] v = behaviour.direction();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (coefficient * v[i]);
                if (!Float.isFinite(v[i])) throw new IllegalArgumentException("coefficient " + coefficient + " x the behaviour vector overflows float32 at index " + i);
            }
            this.scaled = v;
        }

        /** The condition vector {@code c} (unit norm). */
        public double[] conditionVector() {
            return conditionVector.clone();
        }

        /** Threshold, comparator and the F1 the search reached. */
        public Condition condition() {
            return condition;
        }

        /** The behaviour vector (unscaled). */
        public SteeringVector behaviour() {
            return behaviour;
        }

        /** {@code sim} of one prompt's rows ({@code [tokens][width]} row-major) under this intervention's aggregate. */
        public double similarity(float[] rows, int width) {
            int n = rows.length / width;
            double[] h = new double[width];
            if (aggregate == Aggregate.LAST) {
                for (int i = 0; i < width; i++) h[i] = rows[(n - 1) * width + i];
            } else {
                // rounded to float as Readout.mean rounds the rows the condition was fitted on
                float[] mean = Readout.mean().samples(rows, width);
                for (int i = 0; i < width; i++) h[i] = mean[i];
            }
            return Cast.similarity(h, conditionVector);
        }

        @Override
        public Hooks.Handle attach(State state) {
            Gate gate = new Gate();
            Hooks.Handle check = state.hooks().add(conditionHook, (ctx, x) -> {
                if (ctx.startPos() != 0) return;
                if (ctx.width() != conditionVector.length) {
                    throw new IllegalArgumentException("CAST condition vector has " + conditionVector.length + " values, " + conditionHook + " has " + ctx.width());
                }
                gate.met = condition.met(similarity(java.util.Arrays.copyOf(x, ctx.tokens() * ctx.width()), ctx.width()));
                gate.pending = true;
            });
            Hooks.Handle add = state.hooks().add(behaviour.hook(), (ctx, x) -> apply(ctx, x, gate));
            return () -> {
                add.close();
                check.close();
            };
        }

        private void apply(HookContext ctx, float[] x, Gate gate) {
            if (ctx.startPos() == 0) {
                if (!gate.pending) {
                    throw new IllegalStateException("CAST: the behaviour hook " + behaviour.hook() + " saw the prompt before the condition hook "
                            + conditionHook + " did: the condition must come first in the forward pass");
                }
                gate.pending = false;
            }
            if (!gate.met) return;
            int d = scaled.length;
            if (ctx.width() != d) throw new IllegalArgumentException("CAST behaviour vector has " + d + " values, " + behaviour.hook() + " has " + ctx.width());
            AddVector.addAt(ctx, x, scaled, positions);
        }

        @Override
        public String describe() {
            String rule = condition.comparator() == Comparator.LARGER ? "sim < " : "sim > ";
            return String.format(Locale.ROOT, "cast if %s%s at %s (%s%s) then %s %s x%s %s", rule, condition.threshold(), conditionHook,
                    aggregate.name().toLowerCase(Locale.ROOT), Double.isNaN(condition.f1()) ? ", given" : String.format(Locale.ROOT, ", F1 %.3f", condition.f1()),
                    behaviour.method(), behaviour.hook(), coefficient, positions);
        }
    }

    /** One sequence's decision: whether it meets the condition, and whether its prompt's decision is still to be used. */
    private static final class Gate {
        boolean met;
        boolean pending;
    }
}
