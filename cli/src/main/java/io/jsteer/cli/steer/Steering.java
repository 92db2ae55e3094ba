/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.transformer.Model;
import java.nio.file.Path;

/** Builds interventions from what the command line names: a saved vector, or a method fitted on contrast prompts. */
public final class Steering {
    private Steering() {}

    /** Adds the vector saved in {@code file} with {@code coefficient} at {@code positions}. */
    public static AddVector fromVector(Path file, Model model, double coefficient, PositionRule positions) {
        SteeringVector v = VectorFiles.load(file, model.config());
        return new AddVector(v, coefficient, positions);
    }

    /** Fits the method of {@code spec} on {@code data}. */
    public static Intervention fromMethod(MethodSpec spec, Model model, ContrastSet data) {
        SteeringMethod method = Methods.create(spec, model.config());
        return method.fit(model, data);
    }
}
