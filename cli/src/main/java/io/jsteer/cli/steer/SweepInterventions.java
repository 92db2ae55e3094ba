/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.cli.UserError;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.eval.InterventionFactory;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepPoint;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.VectorMethod;
import io.jsteer.transformer.Model;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
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
    private final Map<String, SteeringScale> scales = new HashMap<>();
    private boolean normUnits;

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
        AddVector base = base(p, (VectorMethod) method);
        double coefficient = normUnits ? scales.get(key(p)).coefficientFor(p.coefficient()) : p.coefficient();
        return new AddVector(base.vector(), coefficient, base.positions());
    }

    /**
     * The sweep's header: fits the vector of every (layer, k) of {@code grid} now (each is fitted
     * once in any case) and writes to {@code log} its norm, the mean residual norm at its hook over
     * {@code reference} and how many residual norms the grid's largest coefficient adds, with a
     * warning past {@link SteeringScale#WARN_RATIO}. With {@code normUnits}, the grid's
     * coefficients are from then on fractions of that residual norm ({@code --coeff-unit norm}),
     * so that vectors of different methods and layers are compared at the same strength.
     *
     * @throws UserError when {@code normUnits} and the method is not a {@link VectorMethod}
     */
    public void scales(SweepGrid grid, List<int[]> reference, boolean normUnits, PrintWriter log) {
        double largest = grid.coefficients().stream().mapToDouble(Math::abs).max().orElse(0);
        for (SweepPoint p : grid.points()) {
            if (!(method(p) instanceof VectorMethod vm)) {
                if (normUnits) {
                    throw new UserError("--coeff-unit norm needs a method that adds one fitted vector scaled by the coefficient (caa, sparse-mean-diff,"
                            + " whitened-sparse-mean-diff); " + spec.name() + " is not one");
                }
                return;
            }
            if (scales.containsKey(key(p)) || reference.isEmpty()) continue;
            SteeringScale scale = SteeringScale.of(model, base(p, vm), reference);
            scales.put(key(p), scale);
            double raw = normUnits ? scale.coefficientFor(largest) : largest;
            log.println("layer " + p.layer() + (p.k().isPresent() ? ", k=" + p.k().getAsInt() : "") + ": " + scale.describe(raw));
            String warning = scale.warning(raw);
            if (warning != null) log.println(warning);
        }
        if (normUnits && scales.isEmpty()) throw new UserError("--coeff-unit norm needs reference texts to measure the residual norm on");
        this.normUnits = normUnits;
    }

    private AddVector base(SweepPoint p, VectorMethod method) {
        return fitted.computeIfAbsent(key(p), k -> method.fit(model, data));
    }

    private static String key(SweepPoint p) {
        return p.layer() + "/" + p.k();
    }
}
