/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.SideBySide;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.PromptInput;
import io.jsteer.cli.options.SamplingOptions;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.cli.steer.Continuation;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.generate.Generator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Continues a prompt; with steering, shows the unsteered and the steered continuation side by side. */
@Command(name = "generate", description = {"Continue a prompt, greedily or by seeded sampling.",
        "Without steering the text streams as it is generated; with --vector or --method the unsteered and"
                + " steered continuations (same seed) are shown side by side."})
public final class GenerateCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Mixin
    PromptInput prompt;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    SteeringOptions steering;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.json", description = "Also write prompt, continuations and token ids as JSON.")
    Path out;

    @Override
    void execute() {
        outputFile("-o", out);
        sampling.sampler(); // validates the settings before anything is printed
        LoadedModel m = model.load(err());
        int[] ids = prompt.tokens(m);
        Intervention steer = steering.build(m, List.of(ids), err());
        int[] stops = sampling.stopTokens(m.model().config());
        String shown = prompt.display(m);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("prompt", shown);
        json.put("prompt_ids", ids);
        if (steer == null) {
            out().print(m.tokenizer() == null ? shown + " ->" : shown);
            out().flush();
            Continuation c = Continuation.generate(m, ids, sampling.maxNewTokens, sampling.sampler(), stops, null, piece -> {
                out().print(m.tokenizer() == null ? " " + piece.strip() : piece);
                out().flush();
            });
            out().println();
            contextNote(m, c);
            json.put("continuation", c.text());
            json.put("continuation_ids", c.tokens());
        } else {
            List<Continuation.Outcome> both = Continuation.generateAll(m, List.of(
                    new Continuation.Request(ids, sampling.maxNewTokens, sampling.sampler(), stops, null),
                    new Continuation.Request(ids, sampling.maxNewTokens, sampling.sampler(), stops, steer)));
            Continuation plain = both.get(0).get(), steered = both.get(1).get();
            contextNote(m, steered);
            out().println("prompt: " + shown);
            out().print(SideBySide.render("unsteered", plain.text(), "steered: " + steer.describe(), steered.text(), SideBySide.terminalWidth()));
            json.put("steering", steer.describe());
            json.put("unsteered", plain.text());
            json.put("unsteered_ids", plain.tokens());
            json.put("steered", steered.text());
            json.put("steered_ids", steered.tokens());
        }
        if (out != null) OutputFiles.writeJson(out, json);
    }

    /** Says so when the continuation is shorter than asked because the context filled up. */
    private void contextNote(LoadedModel m, Continuation c) {
        if (c.stop() == Generator.Stop.CONTEXT_FULL) {
            err().printf("stopped after %d new tokens: the context of %d positions is full (asked for -n %d)%n", c.tokens().length,
                    m.model().config().maxPositions(), sampling.maxNewTokens);
        }
    }
}
