/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.SamplingOptions;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.cli.progress.Progress;
import io.jsteer.cli.steer.Continuation;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Steers the continuation of every prompt in a file. */
@Command(name = "apply", description = "Steer a batch of prompts from a file (one per line, or .jsonl) and write the continuations"
        + " as JSON lines {\"prompt\", \"steered\"[, \"unsteered\"]} (or one JSON array when the output ends in .json).")
public final class ApplyCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Option(names = "--prompts", paramLabel = "FILE", required = true, description = "Prompts to continue.")
    Path prompts;

    @Mixin
    SteeringOptions steering;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--with-unsteered", description = "Also generate each unsteered continuation (same seed), for comparison.")
    boolean withUnsteered;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.jsonl", required = true, description = "Where to write the continuations.")
    Path out;

    @Override
    void execute() {
        outputFile("-o", out);
        List<Prompt> texts = PromptFiles.prompts(prompts);
        LoadedModel m = model.load(err());
        if (!steering.given()) throw new UserError("nothing to apply: give --vector FILE or --method SPEC");
        Intervention steer = steering.build(m);
        int[] stops = sampling.stopTokens(m.model().config());
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Progress progress = Progress.start(err(), "apply", texts.size())) {
            for (Prompt text : texts) {
                int[] ids = m.encode(text);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("prompt", text.label());
                Continuation steered = Continuation.generate(m, ids, sampling.maxNewTokens, sampling.sampler(), stops, steer, null);
                row.put("steered", steered.text());
                row.put("steered_ids", steered.tokens());
                if (withUnsteered) {
                    Continuation plain = Continuation.generate(m, ids, sampling.maxNewTokens, sampling.sampler(), stops, null, null);
                    row.put("unsteered", plain.text());
                    row.put("unsteered_ids", plain.tokens());
                }
                rows.add(row);
                progress.step(null);
            }
        }
        if (out.getFileName().toString().endsWith(".json")) {
            OutputFiles.writeJson(out, Map.of("steering", steer.describe(), "results", rows));
        } else {
            OutputFiles.write(out, o -> {
                for (Map<String, Object> row : rows) {
                    o.write(OutputFiles.JSON_LINE.writeValueAsString(row).getBytes(StandardCharsets.UTF_8));
                    o.write('\n');
                }
            });
        }
        out().printf("wrote %s: %d prompts steered with %s%n", out, rows.size(), steer.describe());
    }
}
