/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.io.TokenIds;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.steer.Forward;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.Residuals;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Looks inside the residual stream: per-layer norms, and how strongly prompts point along a steering vector. */
@Command(name = "inspect", description = "Per-layer residual-stream norms (hook_resid_post) of prompts and, with --vector, their scalar"
        + " projections x.v/|v| onto the vector (last token and mean over tokens) and the cosine at the last token.")
public final class InspectCommand extends CommandBase {
    @Mixin
    BatchOptions batch;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "One prompt (needs a tokenizer).")
        String text;

        @Option(names = "--ids", paramLabel = "IDS", description = "One prompt as token ids, e.g. 1,2,3.")
        String ids;

        @Option(names = "--prompts", paramLabel = "FILE", description = "Several prompts, one per line (or .jsonl).")
        Path file;
    }

    @Option(names = "--vector", paramLabel = "FILE", description = "Steering vector to project onto.")
    Path vector;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.json", description = "Also write the numbers as JSON.")
    Path out;

    @Override
    void execute() {
        outputFile("-o", out);
        LoadedModel m = model.load(err());
        SteeringVector v = vector == null ? null : VectorFiles.load(vector, m.model().config());
        if (v != null && !(v.norm() > 0)) throw new UserError(vector + ": the vector is all zeros, so there is no direction to project on");
        float[] dir = v == null ? null : v.direction();
        if (v != null) out().printf(Locale.ROOT, "vector %s: %s at %s, norm %.4g, model %s%n", vector, v.method(), v.hook(), v.norm(), v.model());
        List<String> labels = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        if (input.file != null) {
            for (Prompt p : PromptFiles.prompts(input.file)) {
                labels.add(p.label());
                prompts.add(m.encode(p));
            }
        } else {
            int[] ids = input.ids != null ? TokenIds.parse(input.ids) : m.encode(input.text);
            labels.add(input.text != null ? input.text : "[" + input.ids + "]");
            prompts.add(ids);
        }
        List<Map<String, Object>> json = new ArrayList<>();
        List<Forward.Result> passes = Forward.runAll(m.model(), prompts, null);
        for (int i = 0; i < prompts.size(); i++) {
            Residuals.Layer[] layers = Residuals.of(passes.get(i), dir);
            out().printf("%nprompt: %s (%d tokens)%n", labels.get(i), prompts.get(i).length);
            out().println(dir == null ? "layer  mean |x|   last |x|" : "layer  mean |x|   last |x|   proj last  proj mean  cos last");
            for (Residuals.Layer l : layers) {
                String mark = v != null && l.layer() == v.hook().layer() ? "*" : " ";
                out().print(String.format(Locale.ROOT, "%4d%s %9.4g  %9.4g", l.layer(), mark, l.meanNorm(), l.lastNorm()));
                out().println(dir == null ? "" : String.format(Locale.ROOT, "  %+9.4g  %+9.4g  %+8.3f", l.lastProjection(), l.meanProjection(), l.lastCosine()));
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("prompt", labels.get(i));
            row.put("ids", prompts.get(i));
            row.put("layers", layers);
            json.add(row);
        }
        if (v != null) out().println("(* = the vector's layer; projections use hook_resid_post of every block)");
        if (out != null) OutputFiles.writeJson(out, Map.of("vector", vector == null ? "" : vector.toString(), "prompts", json));
    }
}
