/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.TopK;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Sparse Activation Steering, SAS (Bayat, Rahimi-Kalahroudi, Pezeshki, Chandar, Vincent 2025,
 * "Steering Large Language Model Activations in Sparse Spaces", arXiv:2503.00177): a steering
 * vector in the feature space of a sparse autoencoder, fitted from contrastive prompt pairs.
 *
 * <pre>
 *   F+, F-   SAE features f(x) of the readout rows of the positive / negative prompts
 *   A+       features active (f_j > 0) in at least one and a fraction >= tau of the rows of F+; A- likewise
 *   S        A+ intersect A- when removeShared (behaviour-specific features only), else empty
 *   v+_j     mean_F+ f_j for j in A+ \ S, else 0;   v-_j likewise
 *   delta    v+ - v-, kept on its k largest |delta_j| (k = 0: all; ties to the lower index)
 *
 *   steering, per selected row x:  f' = f(x) + lambda delta  (then max(f', 0) when clamping, as SAE codes are non-negative)
 *                                   x' = W_dec^T f' + b_dec + (x - W_dec^T f(x) - b_dec)  =  x + W_dec^T (f' - f(x))
 * </pre>
 * The reconstruction error {@code x - x_hat} is kept, so {@code lambda = 0} is exactly the identity
 * and only features in the support of {@code delta} are encoded at run time. Without clamping the
 * edit is the constant vector {@code lambda W_dec^T delta} ({@link Fitted#decodedDirection()});
 * with clamping a suppressed feature is removed only as far as it is present in {@code x}.
 */
public final class Sas implements SteeringMethod {
    /**
     * @param tau          minimum activation frequency of a feature on its side, in [0, 1]
     * @param removeShared drop features present on both sides (the paper's step 4)
     * @param k            keep the k largest |delta_j|; 0 keeps every non-zero entry
     * @param clamp        clip steered feature activations at 0
     */
    public record Options(double tau, boolean removeShared, int k, boolean clamp) {
        public Options {
            if (!(tau >= 0 && tau <= 1)) throw new IllegalArgumentException("tau must be in [0, 1], got " + tau);
            if (k < 0) throw new IllegalArgumentException("k must be >= 0 (0 keeps all), got " + k);
        }

        /** The paper's procedure without a frequency cut: shared features removed, all kept, clamped. */
        public static Options defaults() {
            return new Options(0, true, 0, true);
        }
    }

    private final SparseAutoencoder sae;
    private final HookName hook;
    private final double coefficient;
    private final Options options;
    private final Readout readout;
    private final PositionRule positions;

    /** Steers at the SAE's own hook, last-token readout, all positions, default options. */
    public Sas(SparseAutoencoder sae, double coefficient) {
        this(sae, requireHook(sae), coefficient, Options.defaults(), Readout.last(), PositionRule.all());
    }

    /**
     * Steers with {@code sae} at {@code hook} (the SAE's own, when its config names one) by
     * {@code coefficient}, with {@code options}, reading the rows {@code readout} selects and
     * editing at {@code positions}.
     */
    public Sas(SparseAutoencoder sae, HookName hook, double coefficient, Options options, Readout readout, PositionRule positions) {
        if (sae == null || hook == null || options == null || readout == null || positions == null) {
            throw new IllegalArgumentException("SAS needs an SAE, a hook point, options, a readout and a position rule");
        }
        if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient must be finite, got " + coefficient);
        if (sae.hook() != null && !sae.hook().equals(hook)) {
            throw new IllegalArgumentException("the SAE was trained on " + sae.hook() + ", steering asked for " + hook);
        }
        this.sae = sae;
        this.hook = hook;
        this.coefficient = coefficient;
        this.options = options;
        this.readout = readout;
        this.positions = positions;
    }

    private static HookName requireHook(SparseAutoencoder sae) {
        HookName h = sae.hook();
        if (h == null) throw new IllegalArgumentException(sae.source() + ": the SAE names no blocks.L.hook_X hook point (hook_name " + sae.hookName() + "); give one explicitly");
        return h;
    }

    @Override
    public String name() {
        return "sas";
    }

    @Override
    public Fitted fit(Model model, ContrastSet data) {
        data.requirePaired();
        if (sae.dIn() != model.config().hiddenSize()) {
            throw new IllegalArgumentException("SAE d_in " + sae.dIn() + " does not match the model's hidden size " + model.config().hiddenSize());
        }
        double[] delta = featureVector(stats(model, data.positive()), stats(model, data.negative()), options);
        return new Fitted(sae, hook, delta, coefficient, options.clamp(), positions, SteeringVector.modelId(model.config()), readout);
    }

    private FeatureStats stats(Model model, List<int[]> prompts) {
        FeatureStats s = new FeatureStats(sae.dSae());
        int d = sae.dIn();
        ActivationCache.stream(model, prompts, List.of(hook), readout, (prompt, point, pos, rows) -> {
            for (int off = 0; off < rows.length; off += d) s.add(sae.encode(rows, off));
        });
        return s;
    }

    /** {@code delta} from the feature statistics of both sides (see the class comment). */
    public static double[] featureVector(FeatureStats positive, FeatureStats negative, Options o) {
        if (positive.rows() == 0 || negative.rows() == 0) throw new IllegalArgumentException("SAS needs rows on both sides");
        int n = positive.features();
        double[] delta = new double[n];
        for (int j = 0; j < n; j++) {
            boolean p = positive.present(j, o.tau()), q = negative.present(j, o.tau());
            if (o.removeShared() && p && q) continue;
            delta[j] = (p ? positive.mean(j) : 0) - (q ? negative.mean(j) : 0);
        }
        int nonZero = (int) Arrays.stream(delta).filter(v -> v != 0).count();
        if (nonZero == 0) {
            throw new IllegalArgumentException("no SAE feature separates the two sides (tau " + o.tau() + ", removeShared " + o.removeShared() + ")");
        }
        if (o.k() == 0 || o.k() >= nonZero) return delta;
        return TopK.keepOnly(delta, TopK.indices(TopK.abs(delta), new double[n], o.k()));
    }

    /** The fitted SAS intervention. */
    public static final class Fitted implements Intervention {
        private final SparseAutoencoder sae;
        private final HookName hook;
        private final double[] delta;
        private final double coefficient;
        private final boolean clamp;
        private final PositionRule positions;
        private final String model;
        private final Readout readout;
        private final SparseAutoencoder.Subset subset;
        private final double[] step;

        Fitted(SparseAutoencoder sae, HookName hook, double[] delta, double coefficient, boolean clamp, PositionRule positions, String model, Readout readout) {
            this.sae = sae;
            this.hook = hook;
            this.delta = delta;
            this.coefficient = coefficient;
            this.clamp = clamp;
            this.positions = positions;
            this.model = model;
            this.readout = readout;
            int[] support = IntStream.range(0, delta.length).filter(j -> delta[j] != 0).toArray();
            this.subset = sae.restrict(support);
            this.step = Arrays.stream(support).mapToDouble(j -> coefficient * delta[j]).toArray();
        }

        /** {@code delta} in feature space, {@code [d_sae]}, unscaled. */
        public double[] featureVector() {
            return delta.clone();
        }

        /** Indices of the features {@code delta} touches. */
        public int[] features() {
            return subset.features();
        }

        /** {@code W_dec^T delta}: the dense vector SAS adds when nothing is clamped, unscaled. */
        public SteeringVector decodedDirection() {
            double[] v = new double[sae.dIn()];
            double[] d = Arrays.stream(subset.features()).mapToDouble(j -> delta[j]).toArray();
            subset.addDecoded(d, v);
            return new SteeringVector(hook, TopK.toFloat(v), "sas",
                    Map.of("sae", sae.source(), "features", Integer.toString(d.length), "readout", readout.describe(), "clamp", Boolean.toString(clamp)), model);
        }

        /** Steers the row of {@code x} starting at {@code off} in place: {@code x += W_dec^T (f' - f(x))}. */
        public void steerRow(float[] x, int off) {
            double[] f = subset.encode(x, off);
            double[] change = new double[f.length];
            for (int s = 0; s < f.length; s++) {
                double g = f[s] + step[s];
                if (clamp && g < 0) g = 0;
                change[s] = g - f[s];
            }
            double[] dx = new double[sae.dIn()];
            subset.addDecoded(change, dx);
            for (int i = 0; i < dx.length; i++) x[off + i] = (float) (x[off + i] + dx[i]);
        }

        @Override
        public Hooks.Handle attach(State state) {
            int d = sae.dIn();
            return state.hooks().add(hook, (ctx, x) -> {
                if (ctx.width() != d) throw new IllegalArgumentException("SAE d_in " + d + " does not match the model's hidden size " + ctx.width());
                for (int t = 0; t < ctx.tokens(); t++) if (positions.includes(ctx, t)) steerRow(x, t * d);
            });
        }

        @Override
        public String describe() {
            return "sas " + hook + " lambda=" + coefficient + " on " + step.length + " features" + (clamp ? " (clamped)" : "") + " " + positions;
        }
    }
}
