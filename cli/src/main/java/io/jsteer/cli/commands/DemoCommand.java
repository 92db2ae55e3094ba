/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.demo.Demo;
import io.jsteer.cli.options.BatchOptions;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The guided tour on the built-in default model. */
@Command(name = "demo", description = "Steer the built-in default model end to end, offline: fit a CAA vector from built-in love/war"
        + " prompts, print unsteered vs steered continuations side by side, sweep layers x coefficients, and write the vector,"
        + " the data, sweep.csv/json and an HTML report into --out.")
public final class DemoCommand extends CommandBase {
    @Mixin
    BatchOptions batch;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "jsteer-demo-out", description = "Output directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "Sampling seed of the examples (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    void execute() {
        outputDirectory("-o", out);
        Demo.Settings d = Demo.Settings.defaults(out);
        Demo.run(new Demo.Settings(out, d.layer(), d.coefficient(), d.layers(), d.coefficients(), d.evalTokens(), seed), out(), err());
    }
}
