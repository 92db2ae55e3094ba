/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering;

import io.jsteer.transformer.Model;

/**
 * A steering method from the literature: from a model and contrastive prompts it fits an
 * {@link Intervention}. Method parameters (layer, hook point, coefficient, k, ...) are given to
 * the implementing class's constructor; its Javadoc states the formula and the paper.
 */
public interface SteeringMethod {
    /** Short name used on the command line and in reports, e.g. {@code caa}. */
    String name();

    /** Runs the model over the prompts as needed and returns the fitted intervention. */
    Intervention fit(Model model, ContrastSet data);
}
