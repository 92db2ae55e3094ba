/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import java.util.List;
import java.util.Locale;

/**
 * How large an added vector is against the residual stream it is added to: the vector's norm
 * {@code |v|} and the mean norm {@code |x|} of the stream at its hook point over reference prompts
 * (every position). A coefficient means the same across methods only in these units: CAA vectors
 * are differences of means, whitened ones are not, so "coefficient 4" alone says little.
 *
 * @param residualNorm mean {@code |x|} at the hook over {@code positions} positions of the prompts
 */
public record SteeringScale(HookName hook, double vectorNorm, double residualNorm, int positions) {
    /** Beyond this many residual norms an added vector swamps the stream: the text it steers turns to noise. */
    public static final double WARN_RATIO = 4;

    /** Measures the residual norm at {@code v}'s hook over {@code prompts}. */
    public static SteeringScale of(Model model, AddVector v, List<int[]> prompts) {
        HookName hook = v.vector().hook();
        Activations a = ActivationCache.record(model, prompts, List.of(hook), Readout.all());
        int d = a.width(), rows = 0;
        double sum = 0;
        for (int p = 0; p < prompts.size(); p++) {
            float[] x = a.rows(hook, p);
            for (int r = 0; r < x.length / d; r++, rows++) {
                double s = 0;
                for (int i = 0; i < d; i++) s += (double) x[r * d + i] * x[r * d + i];
                sum += Math.sqrt(s);
            }
        }
        return new SteeringScale(hook, v.vector().norm(), rows == 0 ? Double.NaN : sum / rows, rows);
    }

    /** The raw coefficient that adds {@code fraction} x the mean residual norm. */
    public double coefficientFor(double fraction) {
        return fraction * residualNorm / vectorNorm;
    }

    /** {@code |c v|} in residual norms. */
    public double ratio(double coefficient) {
        return Math.abs(coefficient) * vectorNorm / residualNorm;
    }

    /** One line for a command's header. */
    public String describe(double coefficient) {
        return String.format(Locale.ROOT, "vector |v| = %.4g at %s; residual stream there: mean |x| = %.4g over %d positions; "
                + "coefficient %.4g adds |c v| = %.4g = %.3g residual norms", vectorNorm, hook, residualNorm, positions, coefficient,
                Math.abs(coefficient) * vectorNorm, ratio(coefficient));
    }

    /** A warning when the added vector is more than {@link #WARN_RATIO} residual norms, else null. */
    public String warning(double coefficient) {
        double r = ratio(coefficient);
        if (!(r > WARN_RATIO)) return null;
        return String.format(Locale.ROOT, "warning: the added vector is %.3g times the typical residual norm at %s; expect garbled text"
                + " (--coeff-unit norm takes the coefficient as a fraction of that norm)", r, hook);
    }
}
