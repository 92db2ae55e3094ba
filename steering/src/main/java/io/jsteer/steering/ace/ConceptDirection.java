/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.ace;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.activations.ContrastMoments;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import java.util.Map;

/**
 * A concept direction fitted by difference in means: {@code r = (mu+ - mu-) / |mu+ - mu-|}, with
 * the negative (concept-absent) mean kept as the reference point {@code mu_ref = mu-}. Shared by
 * affine concept editing and directional ablation.
 *
 * @param unit      {@code r} as a steering vector (unit norm, at the hook it was read)
 * @param reference {@code mu_ref}, the mean of the negative samples
 * @param gap       {@code |mu+ - mu-|}: the projection of {@code mu+ - mu_ref} on {@code r}
 */
public record ConceptDirection(SteeringVector unit, double[] reference, double gap) {
    /**
     * Fits {@code r} and {@code mu_ref} from the rows {@code readout} selects at {@code hook}. The two
     * sides need not pair up (the papers contrast sets of different prompts, e.g. harmful and harmless).
     */
    public static ConceptDirection fit(Model model, ContrastSet data, HookName hook, Readout readout, String method) {
        ContrastMoments m = ContrastMoments.of(model, data, hook, readout);
        double[] diff = m.meanDifference();
        double norm = 0;
        for (double v : diff) norm += v * v;
        norm = Math.sqrt(norm);
        if (!(norm > 0)) throw new IllegalArgumentException("the positive and negative means at " + hook + " coincide: no direction to fit");
        float[] r = new float[diff.length];
        for (int i = 0; i < r.length; i++) r[i] = (float) (diff[i] / norm);
        SteeringVector unit = new SteeringVector(hook, r, method, Map.of("readout", readout.describe(), "normalised", "true"),
                SteeringVector.modelId(model.config()));
        return new ConceptDirection(unit, m.negative().mean(), norm);
    }

    @Override
    public double[] reference() {
        return reference.clone();
    }
}
