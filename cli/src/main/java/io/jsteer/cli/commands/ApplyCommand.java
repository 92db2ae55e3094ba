/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.SamplingOptions;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.cli.progress.Progress;
import io.jsteer.cli.steer.Continuation;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.batch.BatchSize;
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
    BatchOptions batch;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

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
        List<PromptFiles.Numbered> texts = PromptFiles.numbered(prompts);
        LoadedModel m = model.load(err());
        if (!steering.given()) throw new UserError("nothing to apply: give --vector FILE or --method SPEC");
        Intervention steer = steering.build(m);
        int[] stops = sampling.stopTokens(m.model().config());
        List<Map<String, Object>> rows = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        int perPrompt = withUnsteered ? 2 : 1;
        // prompts in chunks of a few batches: the progress bar moves as each chunk is done
        int chunk = 4 * BatchSize.current(m.model(), sampling.maxNewTokens + 64);
        try (Progress progress = Progress.start(err(), "apply", texts.size())) {
            for (int first = 0; first < texts.size(); first += chunk) {
                List<PromptFiles.Numbered> part = texts.subList(first, Math.min(texts.size(), first + chunk));
                List<Continuation.Request> requests = new ArrayList<>();
                List<String> encodeErrors = new ArrayList<>();
                for (PromptFiles.Numbered text : part) {
                    int[] ids;
                    try {
                        ids = m.encode(text.prompt());
                        encodeErrors.add(null);
                    } catch (UserError | IllegalArgumentException e) {
                        ids = new int[0];
                        encodeErrors.add(e.getMessage());
                    }
                    requests.add(new Continuation.Request(ids, sampling.maxNewTokens, sampling.sampler(), stops, steer));
                    if (withUnsteered) requests.add(new Continuation.Request(ids, sampling.maxNewTokens, sampling.sampler(), stops, null));
                }
                List<Continuation.Outcome> done = Continuation.generateAll(m, requests);
                for (int i = 0; i < part.size(); i++) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    Prompt prompt = part.get(i).prompt();
                    row.put("prompt", prompt.label());
                    String error = encodeErrors.get(i);
                    Continuation.Outcome steered = done.get(perPrompt * i);
                    if (error == null && steered.error() != null) error = steered.error();
                    if (error == null && withUnsteered && done.get(perPrompt * i + 1).error() != null) error = done.get(perPrompt * i + 1).error();
                    if (error != null) {
                        row.put("line", part.get(i).line());
                        row.put("error", error);
                        failed.add(prompts + " line " + part.get(i).line() + " (" + prompt.label() + "): " + error);
                    } else {
                        row.put("steered", steered.continuation().text());
                        row.put("steered_ids", steered.continuation().tokens());
                        if (withUnsteered) {
                            Continuation plain = done.get(perPrompt * i + 1).continuation();
                            row.put("unsteered", plain.text());
                            row.put("unsteered_ids", plain.tokens());
                        }
                    }
                    rows.add(row);
                    progress.step(null);
                }
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
        out().printf("wrote %s: %d prompts steered with %s%n", out, rows.size() - failed.size(), steer.describe());
        if (!failed.isEmpty()) {
            throw new UserError(failed.size() + " of " + rows.size() + " prompts failed (their rows in " + out
                    + " hold the error; the others are complete):\n  " + String.join("\n  ", failed));
        }
    }
}
