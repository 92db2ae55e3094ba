/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.PositionRules;
import io.jsteer.cli.steer.Steering;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.cli.steer.SteeringScale;
import io.jsteer.steering.vector.AddVector;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Optional steering: a saved vector ({@code --vector}) or a method fitted on contrast prompts ({@code --method}). */
public final class SteeringOptions {
    @Option(names = "--vector", paramLabel = "FILE", description = "Steering vector file (.safetensors, from 'jsteer vector').")
    Path vector;

    @Option(names = "--method", paramLabel = "SPEC",
            description = "Fit a method on the contrast prompts, e.g. caa:layer=2,coeff=4 (see 'jsteer vector --help' for the methods).")
    String method;

    @Option(names = {"-c", "--coeff"}, paramLabel = "C", description = "Steering coefficient (default 1, or the method spec's coeff).")
    Double coefficient;

    @Option(names = "--coeff-unit", paramLabel = "UNIT", defaultValue = "raw",
            description = "raw: the coefficient multiplies the vector as it is (default); norm: it is the added vector's norm as a fraction of the"
                    + " mean residual-stream norm at the hook, so coefficients mean the same across methods (vector methods only).")
    String coeffUnit;

    @Option(names = "--positions", paramLabel = "RULE", description = "Where to steer: " + PositionRules.POSITIONS_HELP + " (default all).")
    String positions;

    @Mixin
    ContrastOptions contrast;

    /** Whether any steering was asked for. */
    public boolean given() {
        return vector != null || method != null;
    }

    /**
     * The intervention asked for, or null when none was. When it adds a vector, the vector's norm
     * and the residual norm at its hook over {@code reference} prompts go to {@code log} (with a
     * warning when the vector swamps the stream), and {@code --coeff-unit norm} is applied.
     */
    public Intervention build(LoadedModel m, List<int[]> reference, PrintWriter log) {
        if (!coeffUnit.equals("raw") && !coeffUnit.equals("norm")) throw new UserError("--coeff-unit must be raw or norm, got '" + coeffUnit + "'");
        Intervention steer = build(m);
        if (!(steer instanceof AddVector add) || reference.isEmpty()) {
            if (coeffUnit.equals("norm")) throw new UserError("--coeff-unit norm needs a method that adds one vector (e.g. --vector or caa)");
            return steer;
        }
        SteeringScale scale = SteeringScale.of(m.model(), add, reference);
        if (coeffUnit.equals("norm")) add = new AddVector(add.vector(), scale.coefficientFor(add.coefficient()), add.positions());
        log.println(scale.describe(add.coefficient()));
        String warning = scale.warning(add.coefficient());
        if (warning != null) log.println(warning);
        return add;
    }

    /**
     * What was asked for, checked: a saved vector with its coefficient and position rule, or a
     * method spec with {@code --coeff} and {@code --positions} folded in. The local commands build
     * the intervention from it, the Spark ones ({@code --spark}) what travels to the executors.
     *
     * @param vector      the vector file, or null for a method
     * @param coefficient the vector's coefficient (default 1); unused for a method
     * @param positions   the vector's position rule, or null for all positions; unused for a method
     * @param method      the method to fit on the contrast prompts, or null for a vector
     */
    public record Request(Path vector, double coefficient, String positions, MethodSpec method) {}

    /** The request, or null when no steering was asked for. */
    public Request request() {
        if (vector != null && method != null) throw new UserError("give either --vector or --method, not both");
        if (vector == null && method == null) {
            if (contrast.given()) throw new UserError("contrast prompts were given but no --method to fit on them");
            if (coefficient != null || positions != null) throw new UserError("--coeff and --positions need --vector or --method");
            return null;
        }
        if (vector != null) {
            if (contrast.given()) throw new UserError("--vector is already fitted; contrast prompts are only used with --method");
            return new Request(vector, coefficient == null ? 1 : coefficient, positions, null);
        }
        MethodSpec spec = MethodSpec.parse(method);
        if (coefficient != null) spec = spec.with("coeff", Double.toString(coefficient));
        if (positions != null) spec = spec.with("positions", positions);
        return new Request(null, 1, null, spec);
    }

    /** The contrast prompts a method is fitted on. */
    public ContrastOptions contrast() {
        return contrast;
    }

    /** {@code raw} or {@code norm}, as given (checked by {@link #build(LoadedModel, List, PrintWriter)}). */
    public String coeffUnit() {
        return coeffUnit;
    }

    /** The intervention asked for, or null when none was; coefficients raw. */
    public Intervention build(LoadedModel m) {
        Request r = request();
        if (r == null) return null;
        if (r.vector() != null) {
            PositionRule rule = r.positions() == null ? PositionRule.all() : PositionRules.positions(r.positions());
            return Steering.fromVector(r.vector(), m.model(), r.coefficient(), rule);
        }
        return Steering.fromMethod(r.method(), m.model(), contrast.set(m, "--method " + r.method().name()));
    }
}
