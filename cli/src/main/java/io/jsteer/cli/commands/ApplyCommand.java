/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.io.ResumableJsonl;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.SamplingOptions;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.cli.progress.Progress;
import io.jsteer.cli.steer.Continuation;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.batch.BatchSize;
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

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.jsonl", required = true,
            description = "Where to write the continuations; results stream to FILE.partial as they finish and FILE appears when all are done.")
    Path out;

    @Option(names = "--resume", description = "Continue a killed run: keep the results in FILE.partial and steer only the prompts still missing.")
    boolean resume;

    @Override
    void execute() {
        ResumableJsonl.checkTarget(out, resume, force);
        List<PromptFiles.Numbered> texts = PromptFiles.numbered(prompts);
        LoadedModel m = model.load(err());
        if (!steering.given()) throw new UserError("nothing to apply: give --vector FILE or --method SPEC");
        Intervention steer = steering.build(m);
        int[] stops = sampling.stopTokens(m.model().config());
        String run = "apply " + steer.describe() + " " + sampling.describe() + (withUnsteered ? " with unsteered" : "");
        List<String> failed = new ArrayList<>();
        int perPrompt = withUnsteered ? 2 : 1;
        // prompts in chunks of a few batches: the progress bar moves and the results reach the
        // partial file as each chunk is done
        int chunk = 4 * BatchSize.current(m.model(), sampling.maxNewTokens + 64);
        try (ResumableJsonl results = ResumableJsonl.open(out, run, texts.stream().map(n -> n.prompt().label()).toList(), resume);
             Progress progress = Progress.start(err(), "apply", texts.size())) {
            if (results.completed() > 0) err().printf("resuming: %d of %d prompts already done%n", results.completed(), texts.size());
            List<Integer> pending = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                if (results.done(i)) progress.step(null);
                else pending.add(i);
            }
            for (int first = 0; first < pending.size(); first += chunk) {
                List<Integer> part = pending.subList(first, Math.min(pending.size(), first + chunk));
                List<Continuation.Request> requests = new ArrayList<>();
                List<String> encodeErrors = new ArrayList<>();
                for (int index : part) {
                    int[] ids;
                    try {
                        ids = m.encode(texts.get(index).prompt());
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
                    int index = part.get(i);
                    Map<String, Object> row = new LinkedHashMap<>();
                    Prompt prompt = texts.get(index).prompt();
                    row.put("prompt", prompt.label());
                    String error = encodeErrors.get(i);
                    Continuation.Outcome steered = done.get(perPrompt * i);
                    if (error == null && steered.error() != null) error = steered.error();
                    if (error == null && withUnsteered && done.get(perPrompt * i + 1).error() != null) error = done.get(perPrompt * i + 1).error();
                    if (error != null) {
                        row.put("line", texts.get(index).line());
                        row.put("error", error);
                    } else {
                        row.put("steered", steered.continuation().text());
                        row.put("steered_ids", steered.continuation().tokens());
                        if (withUnsteered) {
                            Continuation plain = done.get(perPrompt * i + 1).continuation();
                            row.put("unsteered", plain.text());
                            row.put("unsteered_ids", plain.tokens());
                        }
                    }
                    results.write(index, row);
                    progress.step(null);
                }
            }
            for (String line : results.lines()) {
                JsonNode row = parse(line);
                if (row.has("error")) failed.add(prompts + " line " + row.get("line").asInt() + " (" + row.path("prompt").asText() + "): " + row.get("error").asText());
            }
            if (out.getFileName().toString().endsWith(".json")) {
                results.finish(lines -> OutputFiles.writeJson(out, Map.of("steering", steer.describe(), "results", lines.stream().map(ApplyCommand::parse).toList())));
            } else {
                results.finish();
            }
        }
        out().printf("wrote %s: %d prompts steered with %s%n", out, texts.size() - failed.size(), steer.describe());
        if (!failed.isEmpty()) {
            throw new UserError(failed.size() + " of " + texts.size() + " prompts failed (their rows in " + out
                    + " hold the error; the others are complete):\n  " + String.join("\n  ", failed));
        }
    }

    private static JsonNode parse(String line) {
        try {
            return OutputFiles.JSON_LINE.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a result line written by this run does not parse: " + e.getOriginalMessage(), e);
        }
    }
}
