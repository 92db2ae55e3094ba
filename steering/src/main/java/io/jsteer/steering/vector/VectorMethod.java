/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.transformer.Model;

/** A method whose intervention is one added vector: {@code x += coefficient * v}. */
public interface VectorMethod extends SteeringMethod {
    /** Fits the unscaled vector {@code v}. */
    SteeringVector fitVector(Model model, ContrastSet data);

    /** Fits {@code v} and returns the intervention that adds it with this method's coefficient and positions. */
    @Override
    AddVector fit(Model model, ContrastSet data);
}
