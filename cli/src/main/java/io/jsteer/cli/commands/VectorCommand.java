/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.ContrastOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.Methods;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.actadd.ActAdd;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.steering.vector.VectorMethod;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Fits a steering vector on contrast prompts and saves it. */
@Command(name = "vector", description = "Compute a steering vector from contrast prompts and save it as a safetensors file"
        + " (tensor 'direction' plus metadata: model, method, layer, hook point, parameters).")
public final class VectorCommand extends CommandBase {
    @Mixin
    BatchOptions batch;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

    @Mixin
    ModelOptions model;

    @Option(names = "--method", paramLabel = "SPEC", required = true, description = "Method and parameters, e.g. caa:layer=2.")
    String method;

    @Mixin
    ContrastOptions contrast;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.safetensors", required = true, description = "Where to save the vector.")
    Path out;

    /** The vector of a method that adds one vector (ActAdd's vector variants included). */
    private static SteeringVector fit(SteeringMethod sm, LoadedModel m, ContrastSet data) {
        String not = "method " + sm.name() + " does not add one fixed vector; use it directly with 'jsteer generate --method' or 'jsteer apply --method'";
        if (sm instanceof VectorMethod vm) return vm.fitVector(m.model(), data);
        if (sm instanceof ActAdd a) {
            try {
                return a.fitVector(m.model(), data);
            } catch (IllegalStateException positional) {
                throw new UserError(not + " (" + positional.getMessage() + ")");
            }
        }
        throw new UserError(not);
    }

    @Override
    void execute() {
        outputFile("-o", out);
        LoadedModel m = model.load(err());
        MethodSpec spec = MethodSpec.parse(method);
        SteeringMethod sm = Methods.create(spec, m.model().config());
        ContrastSet data = contrast.set(m, "jsteer vector");
        SteeringVector v = countingSequences("vector", data.positive().size() + data.negative().size(), () -> fit(sm, m, data)).withModel(m.name());
        if (!(v.norm() > 0)) throw new UserError(v.method() + " fitted an all-zero vector at " + v.hook() + ": the positive and negative prompts do not differ there");
        VectorFiles.save(out, v);
        out().printf("wrote %s: %s at %s, %d values, norm %.4g, from %d positive / %d negative prompts%n", out, v.method(), v.hook(),
                v.width(), v.norm(), data.positive().size(), data.negative().size());
        // what a method measured while fitting (a probe's accuracies, PCA's explained variance and sign vote)
        for (String key : List.of("train_accuracy", "heldout_accuracy", "explained_variance_ratio", "sign_vote")) {
            String value = v.parameters().get(key);
            if (value != null) out().printf("  %s: %s%n", key, value);
        }
    }
}
