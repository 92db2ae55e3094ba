/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.lora.LoraAdapter;
import io.jsteer.steering.lora.MlpInputs;
import io.jsteer.steering.lora.RankOneAdapter;
import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.weights.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Converts saved steering vectors to formats other tools load. */
@Command(name = "export", description = {"Export steering vectors (scaled by --coeff) for other inference stacks:",
        "  --gguf       llama.cpp control vector (resid_post vectors of blocks >= 1, one per layer; llama.cpp adds them to block outputs)",
        "  --bias-patch GPT-NeoX only, exact: the block's output bias with the vector folded in, as a one-tensor .safetensors",
        "  --lora       rank-1 LoRA on the block's down projection (PEFT adapter folder), fitted on the MLP inputs of --prompts"})
public final class ExportCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Option(names = "--vector", paramLabel = "FILE", required = true, description = "Steering vector file(s); --gguf takes one per layer (repeatable).")
    List<Path> vectors;

    @Option(names = {"-c", "--coeff"}, paramLabel = "C", defaultValue = "1", description = "Coefficient baked into the export (default ${DEFAULT-VALUE}).")
    double coefficient;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--gguf", paramLabel = "FILE.gguf", description = "Write a llama.cpp control vector (use with --control-vector).")
        Path gguf;

        @Option(names = "--bias-patch", paramLabel = "FILE.safetensors", description = "Write the patched GPT-NeoX output bias.")
        Path biasPatch;

        @Option(names = "--lora", paramLabel = "DIR", description = "Write a PEFT rank-1 LoRA adapter folder.")
        Path lora;
    }

    @Option(names = "--prompts", paramLabel = "FILE", description = "With --lora: prompts whose MLP inputs the adapter is fitted on.")
    Path prompts;

    @Option(names = "--ridge", paramLabel = "R", defaultValue = "1e-3", description = "With --lora: ridge strength, relative to the mean squared input (default ${DEFAULT-VALUE}).")
    double ridge;

    @Override
    void execute() {
        outputFile("--gguf", target.gguf);
        outputFile("--bias-patch", target.biasPatch);
        outputDirectory("--lora", target.lora);
        LoadedModel m = model.load(err());
        ModelConfig config = m.model().config();
        List<SteeringVector> vs = vectors.stream().map(f -> VectorFiles.load(f, config)).toList();
        try {
            if (target.gguf != null) {
                String hint = GgufControlVector.modelHint(config.architecture());
                GgufControlVector.write(target.gguf, hint, vs, coefficient);
                out().printf(Locale.ROOT, "wrote %s: %d layer(s), coefficient %s, model hint %s%n", target.gguf, vs.size(), coefficient, hint);
                return;
            }
            if (vs.size() != 1) throw new UserError("--bias-patch and --lora export one vector; got " + vs.size());
            SteeringVector v = vs.getFirst();
            if (target.biasPatch != null) {
                var patch = RankOneAdapter.biasPatch(m.model(), v, coefficient);
                patch.write(target.biasPatch);
                out().printf(Locale.ROOT, "wrote %s: %s with %s x%s folded in (replace that tensor in the checkpoint)%n", target.biasPatch, patch.tensor(), v.hook(), coefficient);
                return;
            }
            if (prompts == null) throw new UserError("--lora needs --prompts FILE: the adapter is fitted on the MLP inputs of those prompts");
            List<int[]> ids = PromptFiles.prompts(prompts).stream().map(m::encode).toList();
            float[] h = MlpInputs.of(m.model(), v.hook().layer(), ids, Readout.all());
            LoraAdapter adapter = RankOneAdapter.lora(m.model(), v, coefficient, h, ridge);
            adapter.writePeft(target.lora, m.name());
            LoraAdapter.Error e = adapter.error(h);
            out().printf(Locale.ROOT, "wrote %s: rank-1 LoRA on %s, relative error of the added vector on %d fitted rows: rms %.3g, max %.3g%n",
                    target.lora, adapter.tensorName("lora_B"), e.rows(), e.rms(), e.max());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
