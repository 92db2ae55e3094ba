/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.iti;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.ejml.simple.SimpleMatrix;

/**
 * Inference-Time Intervention (Li, Patel, Viégas, Pfister, Wattenberg 2023, "Inference-Time
 * Intervention: Eliciting Truthful Answers from a Language Model", arXiv:2306.03341; reference
 * code github.com/likenneth/honest_llama, {@code validation/validate_2fold.py} and {@code utils.py}).
 * It works on the attention heads' outputs before the output projection, {@code blocks.L.attn.hook_z}.
 *
 * <pre>
 *   x_i[l,h]   = z of head h of block l at the readout token of prompt i  (label y_i: 1 positive, 0 negative)
 *   split:       prompt i (of its class; pairs stay together) is held out for validation when
 *                floor((i + 1) val) &gt; floor(i val)   (val = 0.2: every fifth)
 *   probe[l,h] = L2 logistic regression on the training rows (lambda = 1, with intercept:
 *                scikit-learn's LogisticRegression() default, as the reference code fits)
 *   acc[l,h]   = its accuracy on the held-out rows (positive when w.x + b &gt; 0)
 *   heads      = the K (l,h) of highest acc, ties to the lower block, then the lower head
 *   theta[l,h] = mean_{y=1} x[l,h] - mean_{y=0} x[l,h]  over every prompt ("mass mean shift"), unit length
 *   sigma[l,h] = sample standard deviation (n - 1) over every prompt of x_i[l,h] . theta[l,h]
 *   steering:    z[t, h] of block l += alpha * sigma[l,h] * theta[l,h]   for every selected head,
 *                at the newest token of each forward call by default
 * </pre>
 * As in the reference code: probes pick the heads, the mass-mean direction (the paper's best
 * variant, {@code --use_center_of_mass}) is what is added, the standard deviation is
 * {@code torch.std} (unbiased) of the projections of the tuning activations (here every contrast
 * prompt of both classes; the reference reads them from a separate question-only set), and the
 * shift goes to the last position of every forward pass ({@code b[0, -1]} in its
 * {@code ITI_Intervener}), so under KV-cached generation to each new token. The paper's defaults are
 * K = 48 heads and alpha = 15. The reference draws its validation fifth at random
 * ({@code np.random.choice}); here it is every fifth prompt, so the split is reproducible without
 * a random generator (shuffle the data to get a random one), and numpy's unspecified tie order
 * in {@code argsort} becomes the stated one. Probes are fitted by Newton's method to convergence
 * (the reference's {@code lbfgs} stops at tolerance 1e-4), in double precision.
 */
public final class Iti implements SteeringMethod {
    /** The L2 penalty of the probes: scikit-learn's default {@code C = 1}. */
    static final double LAMBDA = 1;
    private final int heads;
    private final double alpha, validation;
    private final int onlyLayer;
    private final Readout readout;
    private final PositionRule positions;

    /**
     * ITI as the reference code runs it: the top {@code heads} heads of every block, shifted at
     * the newest token of each call, prompts read at their last token, a fifth held out.
     *
     * @param heads how many heads to shift (the paper's K, 48)
     * @param alpha the strength (the paper's alpha, 15)
     */
    public Iti(int heads, double alpha) {
        this(heads, alpha, 0.2, -1, Readout.last(), PositionRule.newest());
    }

    /**
     * @param heads      how many heads to shift
     * @param alpha      the strength, in standard deviations of the activations along each direction
     * @param validation the fraction of prompts held out to rank the probes, in (0, 1)
     * @param onlyLayer  a block whose heads alone are candidates, or -1 for every block (the paper)
     * @param readout    the token of each prompt whose z is read
     * @param positions  where the shift is added
     */
    public Iti(int heads, double alpha, double validation, int onlyLayer, Readout readout, PositionRule positions) {
        if (heads < 1) throw new IllegalArgumentException("ITI needs at least one head to shift, got k=" + heads);
        if (!Double.isFinite(alpha)) throw new IllegalArgumentException("alpha must be finite, got " + alpha);
        if (!(validation > 0 && validation < 1)) throw new IllegalArgumentException("the held-out fraction must be in (0, 1), got " + validation);
        if (readout == null || positions == null) throw new IllegalArgumentException("ITI needs a readout and a position rule");
        this.heads = heads;
        this.alpha = alpha;
        this.validation = validation;
        this.onlyLayer = onlyLayer;
        this.readout = readout;
        this.positions = positions;
    }

    @Override
    public String name() {
        return "iti";
    }

    /** Whether prompt {@code i} of its class is held out for validation. */
    boolean heldOut(int i) {
        return Math.floor((i + 1) * validation) > Math.floor(i * validation);
    }

    @Override
    public HeadShifts fit(Model model, ContrastSet data) {
        int L = model.config().numLayers(), H = model.config().numHeads(), hd = model.config().headDim();
        if (onlyLayer >= L) throw new IllegalArgumentException("layer " + onlyLayer + " is out of range: the model has layers 0.." + (L - 1));
        List<Integer> layers = new ArrayList<>();
        for (int l = 0; l < L; l++) if (onlyLayer < 0 || l == onlyLayer) layers.add(l);
        if (heads > layers.size() * H) throw new IllegalArgumentException("k=" + heads + " heads asked, the candidate blocks have " + layers.size() * H);
        List<int[]> prompts = new ArrayList<>(data.positive());
        prompts.addAll(data.negative());
        int n = prompts.size(), nPos = data.positive().size();
        boolean[] label = new boolean[n], held = new boolean[n];
        for (int i = 0; i < n; i++) {
            label[i] = i < nPos;
            held[i] = heldOut(label[i] ? i : i - nPos);
        }
        requireBothClasses(label, held, true, "held-out");
        requireBothClasses(label, held, false, "training");
        List<HookName> points = layers.stream().map(l -> new HookName(l, HookPoint.Z)).toList();
        Activations acts = ActivationCache.record(model, prompts, points, readout);

        List<Candidate> candidates = new ArrayList<>();
        for (int l : layers) {
            HookName point = new HookName(l, HookPoint.Z);
            for (int h = 0; h < H; h++) candidates.add(new Candidate(l, h, headRows(acts, point, n, h, hd), label, held));
        }
        candidates.sort(Comparator.comparingDouble((Candidate c) -> -c.accuracy).thenComparingInt(c -> c.layer).thenComparingInt(c -> c.head));
        List<HeadShifts.Shift> shifts = new ArrayList<>();
        for (Candidate c : candidates.subList(0, heads)) {
            double[] theta = massMeanDirection(c.rows, label, c.layer, c.head);
            shifts.add(new HeadShifts.Shift(c.layer, c.head, toFloat(theta), projectionStd(c.rows, theta), c.accuracy));
        }
        List<HeadShifts.Rank> ranking = candidates.stream().map(c -> new HeadShifts.Rank(c.layer, c.head, c.accuracy)).toList();
        return new HeadShifts(shifts, ranking, alpha, positions, hd);
    }

    /** One head's rows, every prompt's readout row of it, with its probe's held-out accuracy. */
    private static final class Candidate {
        final int layer, head;
        final double[][] rows;
        final double accuracy;

        Candidate(int layer, int head, double[][] rows, boolean[] label, boolean[] held) {
            this.layer = layer;
            this.head = head;
            this.rows = rows;
            this.accuracy = heldOutAccuracy(rows, label, held);
        }
    }

    /** Every prompt's readout row of head {@code h} at {@code point}, averaged when the readout keeps several. */
    private static double[][] headRows(Activations acts, HookName point, int n, int h, int hd) {
        double[][] rows = new double[n][hd];
        int width = acts.width(point);
        for (int i = 0; i < n; i++) {
            float[] r = acts.rows(point, i);
            int count = r.length / width;
            for (int t = 0; t < count; t++) for (int j = 0; j < hd; j++) rows[i][j] += r[t * width + h * hd + j];
            for (int j = 0; j < hd; j++) rows[i][j] /= count;
        }
        return rows;
    }

    private static void requireBothClasses(boolean[] label, boolean[] held, boolean inHeld, String which) {
        int pos = 0, neg = 0;
        for (int i = 0; i < label.length; i++) {
            if (held[i] != inHeld) continue;
            if (label[i]) pos++;
            else neg++;
        }
        if (pos == 0 || neg == 0) {
            throw new IllegalArgumentException("ITI's " + which + " prompts need both classes, got " + pos + " positive and " + neg
                    + " negative (give at least 2 of each; the held-out share is every fifth by default)");
        }
    }

    /** The held-out accuracy of the probe fitted on the training rows. */
    static double heldOutAccuracy(double[][] rows, boolean[] label, boolean[] held) {
        List<double[]> train = new ArrayList<>();
        List<Boolean> trainLabel = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            if (held[i]) continue;
            train.add(rows[i]);
            trainLabel.add(label[i]);
        }
        boolean[] y = new boolean[train.size()];
        for (int i = 0; i < y.length; i++) y[i] = trainLabel.get(i);
        double[] theta = Probe.fit(train.toArray(double[][]::new), y, LAMBDA);
        int right = 0, total = 0;
        for (int i = 0; i < rows.length; i++) {
            if (!held[i]) continue;
            total++;
            if ((Probe.logit(theta, rows[i]) > 0) == label[i]) right++;
        }
        return (double) right / total;
    }

    /** {@code mean(positive rows) - mean(negative rows)}, unit length. */
    static double[] massMeanDirection(double[][] rows, boolean[] label, int layer, int head) {
        int d = rows[0].length, pos = 0, neg = 0;
        double[] p = new double[d], q = new double[d];
        for (int i = 0; i < rows.length; i++) {
            double[] into = label[i] ? p : q;
            if (label[i]) pos++;
            else neg++;
            for (int j = 0; j < d; j++) into[j] += rows[i][j];
        }
        double norm = 0;
        double[] theta = new double[d];
        for (int j = 0; j < d; j++) {
            theta[j] = p[j] / pos - q[j] / neg;
            norm += theta[j] * theta[j];
        }
        norm = Math.sqrt(norm);
        if (!(norm > 0)) throw new IllegalArgumentException("head " + head + " of block " + layer + ": the positive and negative means are equal, so it has no direction to shift along");
        for (int j = 0; j < d; j++) theta[j] /= norm;
        return theta;
    }

    /** The sample standard deviation ({@code n - 1}) of the rows' projections on {@code theta}. */
    static double projectionStd(double[][] rows, double[] theta) {
        double[] proj = new double[rows.length];
        double mean = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < theta.length; j++) proj[i] += rows[i][j] * theta[j];
            mean += proj[i];
        }
        mean /= rows.length;
        double ss = 0;
        for (double v : proj) ss += (v - mean) * (v - mean);
        return Math.sqrt(ss / (rows.length - 1));
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    @Override
    public String toString() {
        return "ITI k=" + heads + " alpha=" + alpha + (onlyLayer >= 0 ? " block " + onlyLayer : "");
    }

    /**
     * The probes: L2-penalised logistic regression with an unpenalised intercept, fitted by
     * Newton's method on {@code L(w, b) = sum_i [log(1 + exp(z_i)) - y_i z_i] + lambda/2 |w|^2},
     * {@code z_i = w . x_i + b}, each step solving the {@code (d + 1)}-square Hessian system with
     * EJML, halving the step until the loss does not grow, until the gradient is below
     * {@code 1e-10} of its first size or 100 steps.
     */
    static final class Probe {
        private Probe() {}

        /** {@code [w_0 .. w_{d-1}, b]}. */
        static double[] fit(double[][] x, boolean[] y, double lambda) {
            int n = x.length, d = x[0].length;
            double[] theta = new double[d + 1];
            double first = -1, loss = loss(theta, x, y, lambda);
            for (int step = 0; step < 100; step++) {
                double[] g = new double[d + 1];
                SimpleMatrix hess = new SimpleMatrix(d + 1, d + 1);
                for (int i = 0; i < n; i++) {
                    double p = sigmoid(logit(theta, x[i])), r = p - (y[i] ? 1 : 0), s = p * (1 - p);
                    for (int a = 0; a <= d; a++) {
                        double xa = a < d ? x[i][a] : 1;
                        g[a] += r * xa;
                        for (int c = 0; c <= a; c++) hess.set(a, c, hess.get(a, c) + s * xa * (c < d ? x[i][c] : 1));
                    }
                }
                double gmax = 0;
                for (int a = 0; a < d; a++) {
                    g[a] += lambda * theta[a];
                    hess.set(a, a, hess.get(a, a) + lambda);
                }
                for (int a = 0; a <= d; a++) {
                    for (int c = 0; c < a; c++) hess.set(c, a, hess.get(a, c));
                    gmax = Math.max(gmax, Math.abs(g[a]));
                }
                if (first < 0) first = gmax;
                if (gmax <= 1e-10 * Math.max(1, first)) break;
                SimpleMatrix delta = hess.solve(new SimpleMatrix(d + 1, 1, true, g));
                double t = 1;
                double[] next = theta.clone();
                for (int halvings = 0; halvings < 50; halvings++, t /= 2) {
                    for (int a = 0; a <= d; a++) next[a] = theta[a] - t * delta.get(a, 0);
                    double l = loss(next, x, y, lambda);
                    if (l <= loss) {
                        loss = l;
                        break;
                    }
                }
                theta = next;
            }
            return theta;
        }

        static double logit(double[] theta, double[] row) {
            int d = row.length;
            double z = theta[d];
            for (int j = 0; j < d; j++) z += theta[j] * row[j];
            return z;
        }

        private static double sigmoid(double z) {
            return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
        }

        private static double loss(double[] theta, double[][] x, boolean[] y, double lambda) {
            double l = 0;
            for (int i = 0; i < x.length; i++) {
                double z = logit(theta, x[i]);
                l += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - (y[i] ? z : 0);
            }
            for (int j = 0; j < x[0].length; j++) l += lambda / 2 * theta[j] * theta[j];
            return l;
        }
    }
}
