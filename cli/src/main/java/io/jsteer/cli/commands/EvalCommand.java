/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.EvaluationText;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.EvaluationOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.Evaluator;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Evaluates one intervention: on-target effect, perplexity ratio and spillover, with 95% intervals. */
@Command(name = "eval", description = "Evaluate one steering setting on held-out data: the on-target effect, the perplexity ratio"
        + " on held-out text and each spillover effect (paired differences, 95%% t intervals, paired t-test p-values).")
public final class EvalCommand extends CommandBase {
    @Mixin
    BatchOptions batch;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

    @Mixin
    ModelOptions model;

    @Mixin
    SteeringOptions steering;

    @Mixin
    EvaluationOptions evaluation;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.json", description = "Also write the evaluation as JSON.")
    Path out;

    @Override
    void execute() {
        outputFile("-o", out);
        LoadedModel m = model.load(err());
        if (!steering.given()) throw new UserError("nothing to evaluate: give --vector FILE or --method SPEC");
        Intervention steer = steering.build(m, evaluation.heldoutIds(m), err());
        Evaluator evaluator = evaluation.build(m);
        Evaluation e = countingSequences("eval", 2 * evaluator.sequences(), () -> evaluator.evaluate(steer));
        out().print(EvaluationText.describe(e));
        if (out != null) OutputFiles.writeJson(out, EvaluationText.json(e));
    }
}
