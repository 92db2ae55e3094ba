/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.activations.ContrastMoments;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.Model;
import io.jsteer.weights.ModelConfig;
import io.jsteer.transformer.hooks.HookName;

/**
 * A vector method whose vector depends on the contrast data only through the per-dimension
 * moments of the positive and the negative activations at one hook point ({@link ContrastMoments}:
 * means and variances, exact and mergeable). Such a method can be fitted from moments reduced
 * anywhere, e.g. per partition on a cluster, and gives the same bits as fitted here.
 */
public interface MomentsMethod extends VectorMethod {
    /** The hook point whose activations are read. */
    HookName hook();

    /** The rows of each prompt that are read. */
    Readout readout();

    /**
     * The unscaled vector from the moments of the activations at {@link #hook()} and
     * {@link #readout()}.
     *
     * @param moments  the positive and the negative prompts' moments
     * @param prompts  how many positive prompts they came from (the pairs, for paired data)
     * @param config   the model the activations came from
     */
    SteeringVector fitVector(ContrastMoments moments, int prompts, ModelConfig config);

    /** Runs the prompts of {@code data} and fits from their moments. */
    @Override
    default SteeringVector fitVector(Model model, ContrastSet data) {
        return fitVector(ContrastMoments.of(model, data, hook(), readout()), data.positive().size(), model.config());
    }
}
