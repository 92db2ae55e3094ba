/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.weights.ModelConfig;
import picocli.CommandLine.Option;

/** How continuations are decoded: length, greedy or seeded sampling, stopping. */
public final class SamplingOptions {
    @Option(names = {"-n", "--max-new-tokens"}, paramLabel = "N", defaultValue = "40", description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    public int maxNewTokens;

    @Option(names = {"-t", "--temperature"}, paramLabel = "T", defaultValue = "0",
            description = "Softmax temperature; 0 = greedy (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample only from the K most likely tokens (0 = off).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Sample only from the smallest set of tokens with mass >= P (1 = off).")
    double topP;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "0", description = "Random seed for sampling (default ${DEFAULT-VALUE}).")
    public long seed;

    @Option(names = "--ignore-eos", description = "Do not stop at the model's end-of-sequence token.")
    boolean ignoreEos;

    /** A fresh sampler; steered and unsteered runs each get their own, drawing the same random numbers. */
    public Sampler sampler() {
        if (maxNewTokens < 0) throw new UserError("--max-new-tokens must be >= 0, got " + maxNewTokens);
        try {
            return new Sampler(temperature, topK, topP, seed);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** The settings in one line, e.g. to tell whether a resumed run used the same ones. */
    public String describe() {
        return "-n " + maxNewTokens + " -t " + temperature + " --top-k " + topK + " --top-p " + topP + " --seed " + seed + (ignoreEos ? " --ignore-eos" : "");
    }

    /** The softmax temperature; 0 = greedy. */
    public double temperature() {
        return temperature;
    }

    /** Sample only from this many most likely tokens; 0 = off. */
    public int topK() {
        return topK;
    }

    /** Nucleus mass; 1 = off. */
    public double topP() {
        return topP;
    }

    /** Whether generation goes on past the end-of-sequence token. */
    public boolean ignoreEos() {
        return ignoreEos;
    }

    /** Token ids that end generation. */
    public int[] stopTokens(ModelConfig config) {
        return ignoreEos ? new int[0] : config.eosTokenIds().clone();
    }
}
