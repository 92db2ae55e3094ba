package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Converts saved steering vectors to formats other tools load. */
@Command(name = "export", description = "Export steering vectors: --gguf writes a llama.cpp control vector"
        + " (coefficient x vector per layer; resid_post vectors of blocks >= 1, as llama.cpp adds them to block outputs).")
public final class ExportCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Option(names = "--vector", paramLabel = "FILE", required = true, description = "Steering vector file(s), at most one per layer (repeatable).")
    List<Path> vectors;

    @Option(names = {"-c", "--coeff"}, paramLabel = "C", defaultValue = "1", description = "Coefficient baked into the export (default ${DEFAULT-VALUE}).")
    double coefficient;

    @Option(names = "--gguf", paramLabel = "FILE.gguf", description = "Write a llama.cpp control vector (--control-vector FILE.gguf).")
    Path gguf;

    @Override
    void execute() {
        if (gguf == null) throw new UserError("nothing to export: give --gguf FILE.gguf");
        var config = model.load(err()).model().config();
        List<SteeringVector> vs = vectors.stream().map(f -> VectorFiles.load(f, config)).toList();
        try {
            GgufControlVector.write(gguf, GgufControlVector.modelHint(config.architecture()), vs, coefficient);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        out().printf("wrote %s: %d layer(s), coefficient %s, model hint %s%n", gguf, vs.size(), coefficient, GgufControlVector.modelHint(config.architecture()));
    }
}
