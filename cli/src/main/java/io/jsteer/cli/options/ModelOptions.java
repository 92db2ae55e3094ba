package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model} and {@code --tokenizer}: which checkpoint to run and how to read text for it. */
public final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR", defaultValue = DefaultModel.NAME,
            description = "Hugging Face model folder (config.json + model.safetensors), or '" + DefaultModel.NAME
                    + "' for the built-in demo model (built on first use). Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to use instead of the one in the model folder.")
    Path tokenizer;

    private LoadedModel loaded;

    /** Loads the model once (building the default model if needed); notes on {@code log}. */
    public LoadedModel load(PrintWriter log) {
        if (loaded != null) return loaded;
        Path dir;
        if (model.equals(DefaultModel.NAME)) {
            Path target = DefaultModel.defaultDirectory();
            if (!DefaultModel.isCurrent(target)) log.println("Building the default model in " + target + " (once; a few seconds)...");
            dir = DefaultModel.ensure(target);
        } else {
            dir = Path.of(model);
            if (!Files.isDirectory(dir)) {
                throw new UserError((Files.exists(dir) ? "--model " + model + " is not a directory" : "model folder " + model + " does not exist")
                        + "; give a Hugging Face model folder or '" + DefaultModel.NAME + "'");
            }
        }
        Path tok = tokenizer != null ? tokenizer : dir.resolve("tokenizer.json");
        Tokenizer t = tokenizer != null || Files.isRegularFile(tok) ? Tokenizers.load(tok) : null;
        loaded = new LoadedModel(model, dir, Model.load(dir), t);
        return loaded;
    }
}
