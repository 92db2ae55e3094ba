/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import com.fasterxml.jackson.core.JsonGenerator;
import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.OutputPaths;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.PromptInput;
import io.jsteer.cli.report.AnalysisCharts;
import io.jsteer.cli.report.AnalysisPage;
import io.jsteer.cli.report.Plot;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.analysis.AttentionPatterns;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Every head's attention pattern over a prompt, as pictures and JSON. */
@Command(name = "attention", description = {"Attention patterns: what every head of every block attends to over the prompt, read at",
        "blocks.L.attn.hook_pattern (the softmax of the masked, scaled and, for Gemma 2, soft-capped scores). Writes into DIR:",
        "attention-L<layer>-H<head>.png (query down, key across), attention.json ({\"tokens\", \"patterns\": [layer][head][query][key]})",
        "and report.html with every picture."})
public final class AttentionCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Mixin
    PromptInput prompt;

    @Option(names = "--layers", paramLabel = "L,...", split = ",", description = "Draw only these blocks (the JSON keeps every block). Default: all.")
    List<Integer> layers;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Folder to write the results into.")
    Path out;

    @Override
    void execute() {
        outputDirectory("-o", out);
        LoadedModel m = model.load(err());
        int L = m.model().config().numLayers();
        List<Integer> drawn = layers == null ? java.util.stream.IntStream.range(0, L).boxed().toList() : List.copyOf(new java.util.LinkedHashSet<>(layers));
        for (int l : drawn) {
            if (l < 0 || l >= L) throw new UserError("--layers: block " + l + " is out of range: " + m.name() + " has blocks 0.." + (L - 1));
        }
        int[] ids = prompt.tokens(m);
        float[][][][] patterns = new AttentionPatterns(m.model()).run(ids);
        List<String> tokens = LensCommand.labels(m, ids);
        List<String> labels = AnalysisCharts.positions(tokens);
        OutputPaths.replaceDirectory(out, dir -> {
            OutputFiles.writeJson(dir.resolve("attention.json"), g -> json(g, m, ids, tokens, patterns));
            AnalysisPage page = new AnalysisPage("jsteer attention: " + m.name())
                    .fact("Model", m.name())
                    .fact("Prompt", String.join("", tokens))
                    .fact("Tokens", Integer.toString(ids.length));
            for (int l : drawn) {
                List<Plot> plots = new ArrayList<>();
                for (int h = 0; h < patterns[l].length; h++) {
                    Plot p = AnalysisCharts.plot("attention-L" + l + "-H" + h + ".png", AnalysisCharts.attention(l, h, patterns[l][h], labels),
                            "Block " + l + ", head " + h + ": row = query position, column = key position it attends to.");
                    OutputFiles.write(dir.resolve(p.file()), o -> o.write(p.png()));
                    plots.add(p);
                }
                page.section("Block " + l, "", plots, Math.min(plots.size(), 2));
            }
            page.note("Pattern", "softmax over the keys of the scaled query-key scores; each row sums to 1 and keys after the query are masked (0). "
                    + "A diagonal one below the main diagonal is a previous-token head; a uniform lower triangle averages the context.");
            OutputFiles.writeText(dir.resolve("report.html"), page.render());
        });
        int heads = patterns.length == 0 ? 0 : patterns[0].length;
        out().printf("%d blocks x %d heads over %d tokens; wrote %s (attention.json, %d pictures, report.html)%n", patterns.length, heads, ids.length, out,
                drawn.size() * heads);
    }

    private static void json(JsonGenerator g, LoadedModel m, int[] ids, List<String> tokens, float[][][][] patterns) throws IOException {
        g.writeStartObject();
        g.writeStringField("model", m.name());
        g.writeFieldName("input_ids");
        g.writeArray(ids, 0, ids.length);
        g.writeArrayFieldStart("tokens");
        for (String t : tokens) g.writeString(t);
        g.writeEndArray();
        g.writeArrayFieldStart("patterns");
        for (float[][][] layer : patterns) {
            g.writeStartArray();
            for (float[][] head : layer) {
                g.writeStartArray();
                for (float[] row : head) {
                    g.writeStartArray();
                    for (float v : row) g.writeNumber(v);
                    g.writeEndArray();
                }
                g.writeEndArray();
            }
            g.writeEndArray();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
