/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputPaths;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.ContrastOptions;
import io.jsteer.cli.options.EvaluationOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.SamplingOptions;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.SweepInterventions;
import io.jsteer.cli.steer.SweepRun;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Evaluates a method over a grid of layers, coefficients and k, and writes the results and a report. */
@Command(name = "sweep", description = "Fit and evaluate a steering method at every layer x coefficient (x k) setting; write "
        + SweepRun.CSV + ", " + SweepRun.JSON + ", PNG plots and an HTML " + SweepRun.REPORT + " (plots, table, best setting, examples) into --out.")
public final class SweepCommand extends CommandBase {
    @Mixin
    BatchOptions batch;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

    @Mixin
    ModelOptions model;

    @Option(names = "--method", paramLabel = "SPEC", required = true, description = "Method and fixed parameters, e.g. caa or sparse-mean-diff:readout=last.")
    String method;

    @Mixin
    ContrastOptions contrast;

    @Option(names = "--layers", paramLabel = "L1,L2,...", split = ",", required = true, description = "Layers to steer.")
    List<Integer> layers;

    @Option(names = "--coeffs", paramLabel = "C1,C2,...", split = ",", required = true, description = "Coefficients.")
    List<Double> coefficients;

    @Option(names = "--ks", paramLabel = "K1,K2,...", split = ",", description = "Values of k, for the sparse methods.")
    List<Integer> ks;

    @Option(names = "--coeff-unit", paramLabel = "UNIT", defaultValue = "raw",
            description = "raw: --coeffs multiply the vector as it is (default); norm: they are the added vector's norm as a fraction of the"
                    + " mean residual-stream norm at its hook over the --heldout texts, so layers and methods are compared at the same strength"
                    + " (vector methods only).")
    String coeffUnit;

    @Mixin
    EvaluationOptions evaluation;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--max-ppl-ratio", paramLabel = "R", defaultValue = SweepRun.DEFAULT_MAX_PERPLEXITY_RATIO,
            description = "Damage budget for the best setting: perplexity may grow by at most this factor (default ${DEFAULT-VALUE}).")
    double maxPerplexityRatio;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "3", description = "Example generations in the report (default ${DEFAULT-VALUE}).")
    int examples;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Output directory.")
    Path out;

    @Override
    void execute() {
        outputDirectory("-o", out);
        LoadedModel m = model.load(err());
        MethodSpec spec = MethodSpec.parse(method);
        SweepGrid grid;
        try {
            grid = new SweepGrid(layers, coefficients, ks);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        if (!coeffUnit.equals("raw") && !coeffUnit.equals("norm")) throw new UserError("--coeff-unit must be raw or norm, got '" + coeffUnit + "'");
        ContrastSet data = contrast.set(m, "jsteer sweep");
        SweepInterventions factory = new SweepInterventions(spec, m.model(), data);
        for (var p : grid.points()) factory.method(p); // a bad spec or setting fails before any work
        Evaluator evaluator = evaluation.build(m);
        factory.scales(grid, evaluation.heldoutIds(m), coeffUnit.equals("norm"), err());
        SweepResult result = SweepRun.run(evaluator, grid, factory, err());

        Map<String, String> meta = SweepRun.metadata(m.name(), spec, data);
        if (coeffUnit.equals("norm")) meta.put("coefficient unit", "fractions of the mean residual-stream norm at the hook over the held-out texts (--coeff-unit norm)");
        List<Prompt> prompts = evaluation.prompts();
        List<Prompt> shown = prompts.subList(0, Math.min(examples, prompts.size()));
        AtomicReference<Optional<SweepRow>> best = new AtomicReference<>();
        OutputPaths.replaceDirectory(out, dir -> best.set(SweepRun.write(dir, "jsteer sweep: " + spec.name(), meta, result, maxPerplexityRatio,
                factory, m, shown, sampling.maxNewTokens, sampling::sampler)));
        out().printf("wrote %s: %d settings (%s, %s, %s and the plots as PNG)%n", out, result.rows().size(), SweepRun.CSV, SweepRun.JSON, SweepRun.REPORT);
        out().println(best.get().map(r -> "best within perplexity x" + maxPerplexityRatio + ": " + r.point() + ", " + r.evaluation().onTarget().measure()
                + " change " + String.format("%+.4g", r.evaluation().onTarget().mean())).orElse("no setting stays within perplexity x" + maxPerplexityRatio));
    }
}
