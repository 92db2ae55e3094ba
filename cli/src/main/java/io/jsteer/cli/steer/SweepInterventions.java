/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.eval.InterventionFactory;
import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.VectorMethod;
import io.jsteer.transformer.Model;
import java.util.HashMap;
import java.util.Map;

/**
 * The interventions of a sweep: the method of a spec with each setting's layer, coefficient and
 * k. A vector method's vector does not depend on the coefficient, so it is fitted once per
 * (layer, k) and rescaled for the other coefficients; other methods are fitted at every setting.
 */
public final class SweepInterventions implements InterventionFactory {
    private final MethodSpec spec;
    private final Model model;
    private final ContrastSet data;
    private final Map<String, AddVector> fitted = new HashMap<>();

    public SweepInterventions(MethodSpec spec, Model model, ContrastSet data) {
        this.spec = spec;
        this.model = model;
        this.data = data;
    }

    /** The method configured for setting {@code p}: the spec with its layer, coefficient and k. */
    public SteeringMethod method(SweepPoint p) {
        MethodSpec s = spec.with("layer", Integer.toString(p.layer())).with("coeff", Double.toString(p.coefficient()));
        if (p.k().isPresent()) s = s.with("k", Integer.toString(p.k().getAsInt()));
        return Methods.create(s, model.config());
    }

    @Override
    public Intervention create(SweepPoint p) {
        SteeringMethod method = method(p);
        if (!(method instanceof VectorMethod)) return method.fit(model, data);
        String key = p.layer() + "/" + p.k();
        AddVector base = fitted.computeIfAbsent(key, k -> ((VectorMethod) method).fit(model, data));
        return new AddVector(base.vector(), p.coefficient(), base.positions());
    }
}
