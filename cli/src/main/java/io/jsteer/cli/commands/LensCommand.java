/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import com.fasterxml.jackson.core.JsonGenerator;
import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.SingleTokens;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.PromptInput;
import io.jsteer.cli.report.AnalysisCharts;
import io.jsteer.cli.report.SweepCharts;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.analysis.LogitLens;
import io.jsteer.steering.analysis.LogitLens.Cell;
import io.jsteer.steering.analysis.LogitLens.Lens;
import io.jsteer.steering.analysis.LogitLens.Stage;
import io.jsteer.steering.analysis.LogitLens.TokenScore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The logit lens over a prompt, as JSON (and optionally a heat map). */
@Command(name = "lens", description = {"The logit lens: the residual stream after the embedding and after every block, read out through the",
        "model's own final norm and unembedding (and Gemma 2's final soft-cap), at every position of the prompt. Writes JSON:",
        "{\"stages\": [{\"hook\": \"blocks.L.hook_resid_post\", \"positions\": [{\"top\": [...], \"chosen\": [...], \"next\": {...}}]}]}",
        "with each token's id, text, logit, probability (softmax over the whole vocabulary) and rank (1 = most likely);",
        "\"next\" is the prompt's own next token. The last stage is the model's output exactly."})
public final class LensCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Mixin
    PromptInput prompt;

    @ArgGroup(exclusive = true)
    Chosen chosen;

    static final class Chosen {
        @Option(names = "--tokens", paramLabel = "TEXTS", description = {"Tokens to score at every stage and position, comma-separated texts",
                "that are one token each; spaces count (\" Paris, London\" is \" Paris\" and \" London\")."})
        String texts;

        @Option(names = "--token-ids", paramLabel = "IDS", description = "The same as token ids, e.g. 1,2,3.")
        String ids;
    }

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "10", description = "Top tokens kept per stage and position. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.json", required = true, description = "Where to write the JSON.")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE.png", description = {"Also draw the lens as a heat map (stage x position): the probability of",
            "the first --tokens token, or without --tokens of the prompt's next token."})
    Path plot;

    @Override
    void execute() throws IOException {
        if (topK < 1) throw new UserError("--top-k must be at least 1, got " + topK);
        outputFile("-o", out);
        outputFile("--plot", plot);
        LoadedModel m = model.load(err());
        int[] ids = prompt.tokens(m);
        int[] scored = chosen == null ? new int[0] : chosen.texts != null ? SingleTokens.texts(m, "--tokens", chosen.texts) : SingleTokens.ids(m, "--token-ids", chosen.ids);
        Lens lens = new LogitLens(m.model()).run(ids, Math.min(topK, m.model().config().vocabSize()), scored);
        byte[] png = plot == null ? null : SweepCharts.png(AnalysisCharts.lens(lens, labels(m, lens.tokens()),
                scored.length > 0 ? SingleTokens.label(m, scored[0]) : null));
        OutputFiles.writeJson(out, g -> write(g, m, lens));
        if (png != null) OutputFiles.write(plot, o -> o.write(png));
        summary(m, lens);
        out().printf("wrote %s%s%n", out, plot == null ? "" : " and " + plot);
    }

    /** A table on stdout: the top token at the last position per stage, and the chosen tokens' rank there. */
    private void summary(LoadedModel m, Lens lens) {
        out().printf("%-26s %-18s %8s", "stage (last position)", "top token", "p");
        for (int c : lens.chosen()) out().printf("  %-18s", quoted(m, c) + " rank/p");
        out().println();
        for (Stage s : lens.stages()) {
            Cell cell = s.positions().getLast();
            TokenScore top = cell.top().getFirst();
            out().printf(Locale.ROOT, "%-26s %-18s %8.4f", s.hook(), quoted(m, top.token()), top.probability());
            for (TokenScore c : cell.chosen()) out().printf(Locale.ROOT, "  %-18s", c.rank() + " / " + String.format(Locale.ROOT, "%.4f", c.probability()));
            out().println();
        }
    }

    /** The prompt's tokens as text. */
    static List<String> labels(LoadedModel m, int[] ids) {
        return java.util.Arrays.stream(ids).mapToObj(id -> SingleTokens.label(m, id)).toList();
    }

    private static String quoted(LoadedModel m, int id) {
        return "'" + SingleTokens.label(m, id) + "'";
    }

    private static void write(JsonGenerator g, LoadedModel m, Lens lens) throws IOException {
        g.writeStartObject();
        g.writeStringField("model", m.name());
        g.writeStringField("readout", "final norm (statistics of the stream read) + unembedding"
                + (m.model().config().finalSoftcap() > 0 ? " + final soft-cap " + m.model().config().finalSoftcap() : ""));
        g.writeFieldName("input_ids");
        g.writeArray(lens.tokens(), 0, lens.tokens().length);
        g.writeArrayFieldStart("input_tokens");
        for (int id : lens.tokens()) g.writeString(SingleTokens.label(m, id));
        g.writeEndArray();
        g.writeArrayFieldStart("chosen");
        for (int id : lens.chosen()) {
            g.writeStartObject();
            g.writeNumberField("id", id);
            g.writeStringField("token", SingleTokens.label(m, id));
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("stages");
        for (Stage s : lens.stages()) {
            g.writeStartObject();
            g.writeStringField("hook", s.hook().toString());
            g.writeArrayFieldStart("positions");
            for (Cell c : s.positions()) {
                g.writeStartObject();
                g.writeNumberField("position", c.position());
                g.writeStringField("token", SingleTokens.label(m, lens.tokens()[c.position()]));
                scores(g, m, "top", c.top());
                scores(g, m, "chosen", c.chosen());
                if (c.next() != null) {
                    g.writeFieldName("next");
                    score(g, m, c.next());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void scores(JsonGenerator g, LoadedModel m, String field, List<TokenScore> list) throws IOException {
        g.writeArrayFieldStart(field);
        for (TokenScore s : list) score(g, m, s);
        g.writeEndArray();
    }

    private static void score(JsonGenerator g, LoadedModel m, TokenScore s) throws IOException {
        g.writeStartObject();
        g.writeNumberField("id", s.token());
        g.writeStringField("token", SingleTokens.label(m, s.token()));
        g.writeNumberField("logit", s.logit());
        g.writeNumberField("probability", s.probability());
        g.writeNumberField("rank", s.rank());
        g.writeEndObject();
    }
}
