/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import com.fasterxml.jackson.core.JsonGenerator;
import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.OutputPaths;
import io.jsteer.cli.io.SingleTokens;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.PromptInput;
import io.jsteer.cli.report.AnalysisCharts;
import io.jsteer.cli.report.AnalysisPage;
import io.jsteer.cli.report.Plot;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.analysis.DirectLogitAttribution;
import io.jsteer.steering.analysis.DirectLogitAttribution.Attribution;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Direct logit attribution of a logit difference to the embedding, every block's attention (and head) and MLP. */
@Command(name = "dla", description = {"Direct logit attribution: how much the embedding, each block's attention output (and each head)",
        "and MLP output write directly towards logit(A) - logit(B) at a position, through the final norm with the scale it has",
        "there (TransformerLens' apply_ln). The terms sum to the logit difference before Gemma 2's final soft-cap. Writes into DIR:",
        "dla.json, dla-layers.png, dla-heads.png and report.html."})
public final class DlaCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Mixin
    PromptInput prompt;

    @ArgGroup(exclusive = true)
    Answers answers;

    static final class Answers {
        @Option(names = "--answers", paramLabel = "A,B", description = {"The two tokens, texts of one token each (spaces count: \" Mary, John\").",
                "Default: the model's two most likely next tokens at the position."})
        String texts;

        @Option(names = "--answer-ids", paramLabel = "A,B", description = "The same as token ids.")
        String ids;
    }

    @Option(names = "--position", paramLabel = "N", description = "The position attributed (0 = the first token; negative counts from the end). Default: the last.")
    Integer position;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Folder to write the results into.")
    Path out;

    @Override
    void execute() {
        outputDirectory("-o", out);
        LoadedModel m = model.load(err());
        int[] ids = prompt.tokens(m);
        int pos = position == null ? ids.length - 1 : position < 0 ? ids.length + position : position;
        if (pos < 0 || pos >= ids.length) throw new UserError("--position " + position + " is outside the prompt of " + ids.length + " tokens");
        int a, b;
        String chosenBy;
        if (answers == null) {
            float[] logits = m.model().forward(m.model().newState(), java.util.Arrays.copyOf(ids, pos + 1), false);
            a = best(logits, -1);
            b = best(logits, a);
            chosenBy = "default: the two most likely next tokens";
        } else {
            String option = answers.texts != null ? "--answers" : "--answer-ids";
            int[] ab = answers.texts != null ? SingleTokens.texts(m, option, answers.texts) : SingleTokens.ids(m, option, answers.ids);
            if (ab.length != 2) throw new UserError(option + " takes two tokens A,B, got " + ab.length);
            a = ab[0];
            b = ab[1];
            chosenBy = option;
        }
        Attribution r = new DirectLogitAttribution(m.model()).run(ids, pos, a, b);
        List<String> tokens = LensCommand.labels(m, ids);
        String metric = "logit('" + SingleTokens.label(m, a) + "') - logit('" + SingleTokens.label(m, b) + "') at position " + pos + " ('" + tokens.get(pos) + "')";
        OutputPaths.replaceDirectory(out, dir -> {
            OutputFiles.writeJson(dir.resolve("dla.json"), g -> json(g, m, ids, tokens, r, chosenBy));
            List<String> labels = new ArrayList<>();
            List<Double> values = new ArrayList<>();
            labels.add("embed");
            values.add(r.embed());
            for (int l = 0; l < r.attention().length; l++) {
                labels.add(l + " attn");
                values.add(r.attention()[l]);
                labels.add(l + " mlp");
                values.add(r.mlp()[l]);
            }
            labels.add("final norm bias");
            values.add(r.bias());
            Plot layers = AnalysisCharts.plot("dla-layers.png", AnalysisCharts.bars("Direct logit attribution of " + metric, labels, values),
                    "What each part writes directly towards the difference; the bars sum to " + String.format(Locale.ROOT, "%.4f", r.total()) + ".");
            Plot heads = AnalysisCharts.plot("dla-heads.png", AnalysisCharts.layersByHeads("Direct logit attribution per head", r.heads(), 0),
                    "Each head's z W_O (its part of the attention output, without the output bias).");
            for (Plot p : List.of(layers, heads)) OutputFiles.write(dir.resolve(p.file()), o -> o.write(p.png()));
            AnalysisPage page = new AnalysisPage("jsteer dla: " + m.name())
                    .fact("Model", m.name())
                    .fact("Prompt", String.join("", tokens))
                    .fact("Metric", metric + " (" + chosenBy + ")")
                    .fact("Logit difference", String.format(Locale.ROOT, "%.4f before the soft-cap; %.4f as the model outputs it", r.logitDifference(), r.modelLogitDifference()))
                    .fact("Sum of the terms", String.format(Locale.ROOT, "%.4f", r.total()))
                    .section("By part", "", List.of(layers))
                    .section("By head", "", List.of(heads))
                    .note("Attribution", "centre (LayerNorm only), divide by the final norm's scale at this position, dot with w * (U[A] - U[B]); "
                            + "the final norm's bias is a term of its own.")
                    .note("Heads", "a head's term plus the attention output bias' term over all heads is the block's attention term; "
                            + "Gemma 2/3's norm of the attention output is linearised at its scale for the whole output.");
            OutputFiles.writeText(dir.resolve("report.html"), page.render());
        });
        out().printf(Locale.ROOT, "%s: %.4f (terms sum to %.4f); wrote %s%n", metric, r.logitDifference(), r.total(), out);
    }

    private static int best(float[] logits, int not) {
        int best = -1;
        for (int i = 0; i < logits.length; i++) if (i != not && (best < 0 || logits[i] > logits[best])) best = i;
        return best;
    }

    private static void json(JsonGenerator g, LoadedModel m, int[] ids, List<String> tokens, Attribution r, String chosenBy) throws IOException {
        g.writeStartObject();
        g.writeStringField("model", m.name());
        g.writeFieldName("input_ids");
        g.writeArray(ids, 0, ids.length);
        g.writeArrayFieldStart("tokens");
        for (String t : tokens) g.writeString(t);
        g.writeEndArray();
        g.writeNumberField("position", r.position());
        g.writeNumberField("answer", r.answer());
        g.writeStringField("answer_token", SingleTokens.label(m, r.answer()));
        g.writeNumberField("other", r.other());
        g.writeStringField("other_token", SingleTokens.label(m, r.other()));
        g.writeStringField("chosen_by", chosenBy);
        g.writeNumberField("logit_difference", r.logitDifference());
        g.writeNumberField("model_logit_difference", r.modelLogitDifference());
        g.writeNumberField("embed", r.embed());
        g.writeFieldName("attention");
        g.writeArray(r.attention(), 0, r.attention().length);
        g.writeArrayFieldStart("heads");
        for (double[] row : r.heads()) g.writeArray(row, 0, row.length);
        g.writeEndArray();
        g.writeFieldName("attention_bias");
        g.writeArray(r.attentionBias(), 0, r.attentionBias().length);
        g.writeFieldName("mlp");
        g.writeArray(r.mlp(), 0, r.mlp().length);
        g.writeNumberField("final_norm_bias", r.bias());
        g.writeNumberField("total", r.total());
        g.writeEndObject();
    }
}
