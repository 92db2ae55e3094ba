/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.GgufExport;
import io.jsteer.weights.WeightsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes a Hugging Face checkpoint as a llama.cpp GGUF model file, its matrices quantized. */
@Command(name = "quantize", description = {"Write a Hugging Face model folder as a GGUF model file that llama.cpp and jsteer load,",
        "its matrices as q8_0, q4_0 (encoded as llama-quantize encodes them), f16 or f32, with the folder's vocabulary."})
public final class QuantizeCommand extends CommandBase {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR", required = true, description = "Hugging Face model folder (config.json + model.safetensors).")
    Path model;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.gguf", required = true, description = "The GGUF file to write (atomically).")
    Path out;

    @Option(names = "--type", paramLabel = "TYPE", required = true, description = "q8_0, q4_0, f16 or f32 for the matrices; vectors stay f32.")
    String type;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json (default: the folder's) or a .gguf file whose vocabulary is copied.")
    Path tokenizer;

    @Override
    void execute() {
        DType t = switch (type.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            case "f16" -> DType.F16;
            case "f32" -> DType.F32;
            default -> throw new UserError("--type " + type + " is not a type; expected q8_0, q4_0, f16 or f32");
        };
        if (!Files.isDirectory(model)) {
            throw new UserError("--model " + model + (Files.isRegularFile(model) ? " is a file; give a Hugging Face model folder (re-quantizing GGUF files is not supported)"
                    : " does not exist"));
        }
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) throw new UserError("--tokenizer " + tokenizer + " does not exist");
        outputFile("--out", out);
        Path tok = tokenizer != null ? tokenizer : Files.isRegularFile(model.resolve("tokenizer.json")) ? model.resolve("tokenizer.json") : null;
        try {
            Checkpoint cp = Checkpoint.open(model);
            for (String note : GgufExport.write(cp, t, tok, out)) err().println("note: " + note);
        } catch (IllegalArgumentException | WeightsException e) {
            throw new UserError(e.getMessage());
        }
        out().printf(Locale.ROOT, "wrote %s (%s, %.1f MB)%n", out, t.name().toLowerCase(Locale.ROOT), sizeMb(out));
    }

    private static double sizeMb(Path f) {
        try {
            return Files.size(f) / 1e6;
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
    }
}
