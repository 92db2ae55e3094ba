/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import io.jsteer.cli.UserError;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.TokenizerException;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.backend.Backend;
import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.transformer.ModelWeights;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.QuantizedWeights;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/** {@code --model}, {@code --tokenizer} and {@code --backend}: which checkpoint to run, how to read text for it, and where. */
public final class ModelOptions {
    /** The TornadoVM backend, in the optional gpu module: looked up by name so the CLI builds and runs without it. */
    static final String TORNADO_CLASS = "io.jsteer.gpu.TornadoBackend";

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", defaultValue = DefaultModel.NAME,
            description = "Hugging Face model folder (config.json + model.safetensors), a llama.cpp .gguf model file, or '" + DefaultModel.NAME
                    + "' for the built-in demo model (built on first use). Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (or a .gguf file's embedded vocabulary) to use instead of the model's own: the folder's tokenizer.json, "
                    + "or for a .gguf model a tokenizer.json beside it, else the vocabulary embedded in it.")
    Path tokenizer;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "Where the forward pass runs: cpu, or tornado (a GPU or other OpenCL device through TornadoVM; "
                    + "needs TORNADOVM_HOME, see gpu/README.md). Without TornadoVM or a usable device it says so and uses the CPU. "
                    + "Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "Quantize the model's matrices to q8_0 or q4_0 as they are loaded (as llama-quantize encodes them), "
                    + "for a smaller and faster model in memory; a GGUF file's quantized matrices stay as they are.")
    String quantize;

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
            if (!Files.isDirectory(dir) && !(Files.isRegularFile(dir) && Checkpoint.isGguf(dir))) {
                throw new UserError((Files.exists(dir) ? "--model " + model + " is neither a directory nor a GGUF file" : "model folder " + model + " does not exist")
                        + "; give a Hugging Face model folder, a .gguf model file or '" + DefaultModel.NAME + "'");
            }
        }
        Tokenizer t = tokenizer(dir);
        DType type = null;
        if (quantize != null) {
            type = QuantizedWeights.parseType(quantize);
            if (type == null) throw new UserError("--quantize " + quantize + " is not a type; expected q8_0 or q4_0");
        }
        Backend b = backend(backend, log::println);
        Model m;
        if (type == null) {
            m = Model.load(dir, b);
        } else {
            Checkpoint cp = Checkpoint.open(dir);
            m = new Model(cp.config(), ModelWeights.load(cp.config(), new QuantizedWeights(cp.weights(), type)), b);
        }
        loaded = new LoadedModel(model, dir, m, t);
        return loaded;
    }

    /**
     * {@code --tokenizer}, else the folder's tokenizer.json; for a GGUF file a tokenizer.json beside it,
     * else the vocabulary embedded in it; null when there is none.
     */
    private Tokenizer tokenizer(Path dir) {
        if (tokenizer != null) return Tokenizers.load(tokenizer);
        if (Files.isDirectory(dir)) {
            Path json = dir.resolve("tokenizer.json");
            return Files.isRegularFile(json) ? Tokenizers.load(json) : null;
        }
        Path beside = dir.resolveSibling("tokenizer.json");
        if (Files.isRegularFile(beside)) return Tokenizers.load(beside);
        try (GgufFile gguf = GgufFile.read(dir)) {
            if (!gguf.metadata().containsKey("tokenizer.ggml.model")) return null;
            try {
                return Tokenizers.fromGguf(dir, gguf.metadata());
            } catch (TokenizerException e) {
                throw new UserError("the vocabulary embedded in " + e.getMessage() + "; pass --tokenizer FILE (a tokenizer.json) to use another");
            }
        }
    }

    /**
     * The backend named by {@code --backend}. For {@code tornado}, {@code TornadoBackend.tryCreate}
     * of the gpu module reports on {@code note} the device it found, or the one reason it is
     * unusable; when the module is not on the class path this says so. Either way the CPU backend
     * stands in.
     */
    static Backend backend(String name, Consumer<String> note) {
        return switch (name) {
            case "cpu" -> CpuBackend.INSTANCE;
            case "tornado" -> tornado(note);
            default -> throw new UserError("--backend " + name + " is not a backend; expected cpu or tornado");
        };
    }

    private static Backend tornado(Consumer<String> note) {
        Class<?> type;
        try {
            type = Class.forName(TORNADO_CLASS);
        } catch (ClassNotFoundException | LinkageError e) {
            note.accept("--backend tornado: the gpu module is not on the class path (the jsteer launcher adds it when "
                    + "TORNADOVM_HOME points at a TornadoVM SDK); using the CPU backend");
            return CpuBackend.INSTANCE;
        }
        try {
            Optional<?> created = (Optional<?>) type.getMethod("tryCreate", Consumer.class).invoke(null, note);
            return created.map(Backend.class::cast).orElse(CpuBackend.INSTANCE);
        } catch (InvocationTargetException e) {
            note.accept("--backend tornado: TornadoVM failed to start (" + e.getCause() + "); using the CPU backend");
            return CpuBackend.INSTANCE;
        } catch (ReflectiveOperationException | ClassCastException e) {
            note.accept("--backend tornado: " + TORNADO_CLASS + " does not match this CLI (" + e + "); using the CPU backend");
            return CpuBackend.INSTANCE;
        }
    }
}
