/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.transformer.Model;
import java.util.function.Function;

/** Builds the intervention a sweep evaluates at one setting. */
@FunctionalInterface
public interface InterventionFactory {
    /** The intervention at {@code point} (layer, coefficient and, for sparse methods, k). */
    Intervention create(SweepPoint point);

    /** Configures a steering method for each setting and fits it on {@code data}. */
    static InterventionFactory fitting(Model model, ContrastSet data, Function<SweepPoint, ? extends SteeringMethod> methods) {
        if (model == null || data == null || methods == null) throw new IllegalArgumentException("fitting needs a model, contrast data and a method factory");
        return point -> methods.apply(point).fit(model, data);
    }
}
