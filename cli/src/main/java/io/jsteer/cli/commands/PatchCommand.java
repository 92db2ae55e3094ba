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
import io.jsteer.cli.io.TokenIds;
import io.jsteer.cli.options.BatchOptions;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.report.AnalysisCharts;
import io.jsteer.cli.report.AnalysisPage;
import io.jsteer.cli.report.Plot;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.analysis.ActivationPatching;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookPoint;
import java.io.IOException;
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

/** Activation patching from a clean prompt into a corrupted one: JSON, CSV, heat maps and an HTML page. */
@Command(name = "patch", description = {"Activation patching: run the corrupted prompt with the activation at one hook point and position",
        "taken from the clean prompt's run, for every layer and position, and score each run by the logit difference",
        "logit(A) - logit(B) at the last position. The prompts must have the same number of tokens. Writes into DIR:",
        "patch.json, patch.csv (one row per hook, layer and position), patch-HOOK.png heat maps and report.html;",
        "with --heads also each head patched at attn.hook_z over every position (patch-heads.csv, patch-heads.png)."})
public final class PatchCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt clean;

    static final class Prompt {
        @Option(names = "--clean", paramLabel = "TEXT", description = "The clean prompt, whose activations are patched in.")
        String text;

        @Option(names = "--clean-ids", paramLabel = "IDS", description = "The clean prompt as token ids.")
        String ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Corrupt corrupt;

    static final class Corrupt {
        @Option(names = "--corrupt", paramLabel = "TEXT", description = "The corrupted prompt, which is run with the patches.")
        String text;

        @Option(names = "--corrupt-ids", paramLabel = "IDS", description = "The corrupted prompt as token ids.")
        String ids;
    }

    @ArgGroup(exclusive = true)
    Answers answers;

    static final class Answers {
        @Option(names = "--answers", paramLabel = "A,B", description = {"The metric's tokens, two texts of one token each (spaces count: \" Mary, John\").",
                "Default: the clean prompt's top next token as A and the corrupted prompt's as B."})
        String texts;

        @Option(names = "--answer-ids", paramLabel = "A,B", description = "The same as token ids.")
        String ids;
    }

    @Option(names = "--hooks", paramLabel = "POINTS", defaultValue = "resid_pre,attn_out,mlp_out", split = ",",
            description = "Hook points patched, each over every layer and position: resid_pre, attn_out, resid_mid (sequential blocks only), "
                    + "mlp_out, resid_post. Default: ${DEFAULT-VALUE} (TransformerLens' get_act_patch_block_every).")
    List<String> hooks;

    @Option(names = "--heads", description = {"Also patch each attention head alone, its part of blocks.L.attn.hook_z at every position",
            "(TransformerLens' get_act_patch_attn_head_out_all_pos): a layer x head heat map."})
    boolean heads;

    @Mixin
    BatchOptions batch;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Folder to write the results into.")
    Path out;

    @Override
    Integer batchSize() {
        return batch.batchSize;
    }

    @Override
    void execute() {
        outputDirectory("-o", out);
        List<HookPoint> points = new ArrayList<>();
        for (String h : hooks) {
            HookPoint p;
            try {
                p = HookPoint.parse(h.strip());
            } catch (IllegalArgumentException e) {
                throw new UserError("--hooks: " + e.getMessage());
            }
            if (p.layout() == HookPoint.Layout.PATTERN || p == HookPoint.LN_FINAL) {
                throw new UserError("--hooks: " + p.tlName() + " has no row per layer and position to patch; give residual-stream points or attn.hook_z");
            }
            if (!points.contains(p)) points.add(p);
        }
        LoadedModel m = model.load(err());
        Model mdl = m.model();
        if (points.contains(HookPoint.RESID_MID) && mdl.config().parallelResidual()) {
            throw new UserError("--hooks: resid_mid does not exist in " + m.name() + ": its blocks use a parallel residual (attention and MLP both read resid_pre)");
        }
        int[] cleanIds = clean.text != null ? m.encode(clean.text) : m.checkIds(TokenIds.parse(clean.ids));
        int[] corruptIds = corrupt.text != null ? m.encode(corrupt.text) : m.checkIds(TokenIds.parse(corrupt.ids));
        if (cleanIds.length != corruptIds.length) {
            throw new UserError("the clean prompt is " + cleanIds.length + " tokens (" + oneLine(m, cleanIds) + ") and the corrupted one "
                    + corruptIds.length + " (" + oneLine(m, corruptIds) + "); patching pairs positions one to one, "
                    + "so reword one prompt until both have the same number of tokens");
        }
        int a, b;
        String chosenBy;
        if (answers == null) {
            a = argmax(mdl.forward(mdl.newState(), cleanIds, false));
            b = argmax(mdl.forward(mdl.newState(), corruptIds, false));
            chosenBy = "default: the clean prompt's top next token vs the corrupted prompt's";
            if (a == b) {
                throw new UserError("the clean and the corrupted prompt have the same top next token ('" + SingleTokens.label(m, a)
                        + "'), so the default metric is empty; choose its tokens with --answers A,B");
            }
        } else {
            int[] ab = answers.texts != null ? SingleTokens.texts(m, "--answers", answers.texts) : SingleTokens.ids(m, "--answer-ids", answers.ids);
            if (ab.length != 2) throw new UserError((answers.texts != null ? "--answers" : "--answer-ids") + " takes two tokens A,B, got " + ab.length);
            a = ab[0];
            b = ab[1];
            chosenBy = answers.texts != null ? "--answers" : "--answer-ids";
        }
        ActivationPatching patching = new ActivationPatching(mdl, cleanIds, corruptIds, a, b);
        int headRuns = heads ? mdl.config().numLayers() * mdl.config().numHeads() : 0;
        int runs = points.size() * mdl.config().numLayers() * cleanIds.length + headRuns;
        Map<HookPoint, double[][]> results = new LinkedHashMap<>();
        double[][] byHead = countingSequences("patch", runs, () -> {
            for (HookPoint p : points) results.put(p, patching.residual(p));
            return heads ? patching.heads(HookPoint.Z) : null;
        });
        Result result = new Result(m, cleanIds, corruptIds, a, b, chosenBy, patching.cleanDifference(), patching.corruptDifference(), results, byHead);
        OutputPaths.replaceDirectory(out, dir -> result.write(dir));
        out().printf(Locale.ROOT, "metric logit('%s') - logit('%s'): clean %.4f, corrupted %.4f%n", SingleTokens.label(m, a), SingleTokens.label(m, b),
                patching.cleanDifference(), patching.corruptDifference());
        int maps = points.size() + (heads ? 1 : 0);
        out().printf("%d patched runs; wrote %s (patch.json, patch.csv, %d heat map%s, report.html)%n", runs, out, maps, maps == 1 ? "" : "s");
    }

    /** The tokens of a prompt joined by {@code |}, line breaks escaped, for a one-line message. */
    private static String oneLine(LoadedModel m, int[] ids) {
        return String.join("|", LensCommand.labels(m, ids)).replace("\n", "\\n").replace("\r", "\\r");
    }

    /** A point's name in files and JSON keys: {@code resid_pre}, {@code attn_z}. */
    static String name(HookPoint p) {
        return p.tlName().replace("hook_", "").replace('.', '_');
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /** Everything the command writes, from one place. */
    private record Result(LoadedModel m, int[] clean, int[] corrupt, int a, int b, String chosenBy, double cleanDiff, double corruptDiff,
            Map<HookPoint, double[][]> grids, double[][] heads) {
        boolean restoredDefined() {
            return cleanDiff != corruptDiff;
        }

        double restored(double v) {
            return (v - corruptDiff) / (cleanDiff - corruptDiff);
        }

        void write(Path dir) {
            OutputFiles.writeJson(dir.resolve("patch.json"), this::json);
            OutputFiles.writeText(dir.resolve("patch.csv"), csv());
            List<String> tokens = LensCommand.labels(m, corrupt);
            List<String> positions = AnalysisCharts.positions(LensCommand.labels(m, clean), tokens);
            List<Plot> plots = new ArrayList<>();
            for (Map.Entry<HookPoint, double[][]> e : grids.entrySet()) {
                String hook = name(e.getKey());
                plots.add(AnalysisCharts.plot("patch-" + hook + ".png", AnalysisCharts.patching(hook, shown(e.getValue()), positions, restoredDefined()),
                        "blocks.L." + e.getKey().tlName() + " patched from the clean run at one position (column) of one layer (row)."));
            }
            if (heads != null) {
                plots.add(AnalysisCharts.plot("patch-heads.png", AnalysisCharts.layersByHeads("Patching each head's attn.hook_z (all positions): "
                        + (restoredDefined() ? "fraction restored" : "logit difference"), shown(heads), restoredDefined() ? 1 : 0),
                        "Head (column) of block (row) patched alone from the clean run, its part of attn.hook_z at every position."));
                OutputFiles.writeText(dir.resolve("patch-heads.csv"), headsCsv());
            }
            for (Plot p : plots) OutputFiles.write(dir.resolve(p.file()), o -> o.write(p.png()));
            AnalysisPage page = new AnalysisPage("jsteer patch: " + m.name())
                    .fact("Model", m.name())
                    .fact("Clean prompt", String.join("", LensCommand.labels(m, clean)))
                    .fact("Corrupted prompt", String.join("", tokens))
                    .fact("Metric", "logit('" + SingleTokens.label(m, a) + "') - logit('" + SingleTokens.label(m, b) + "') at the last position (" + chosenBy + ")")
                    .fact("Clean run", String.format(Locale.ROOT, "%.4f", cleanDiff))
                    .fact("Corrupted run", String.format(Locale.ROOT, "%.4f", corruptDiff))
                    .section("Heat maps", "One corrupted run per cell, with the activation at that layer and position replaced by the clean run's.", plots)
                    .note("Restored fraction", "(patched - corrupted) / (clean - corrupted): 1 means the patch alone brings back the clean "
                            + "behaviour, 0 that it changes nothing; shown when the clean and corrupted metrics differ, else the logit difference itself.")
                    .note("resid_pre / resid_post", "the whole residual stream entering / leaving the block at that position.")
                    .note("attn_out / mlp_out", "what the block's attention / MLP adds to the stream at that position.")
                    .note("Heads", "with --heads: one head's output (its part of attn.hook_z, before the output projection) patched at every position.");
            OutputFiles.writeText(dir.resolve("report.html"), page.render());
        }

        /** The grid as shown: fractions restored where defined, else the logit differences. */
        private double[][] shown(double[][] grid) {
            if (!restoredDefined()) return grid;
            double[][] out = new double[grid.length][];
            for (int l = 0; l < grid.length; l++) out[l] = java.util.Arrays.stream(grid[l]).map(this::restored).toArray();
            return out;
        }

        private String headsCsv() {
            StringBuilder s = new StringBuilder("layer,head,logit_difference,restored\n");
            for (int l = 0; l < heads.length; l++) {
                for (int h = 0; h < heads[l].length; h++) {
                    s.append(l).append(',').append(h).append(',').append(heads[l][h]).append(',')
                            .append(restoredDefined() ? Double.toString(restored(heads[l][h])) : "").append('\n');
                }
            }
            return s.toString();
        }

        private void json(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("model", m.name());
            prompt(g, "clean", clean);
            prompt(g, "corrupt", corrupt);
            g.writeObjectFieldStart("metric");
            g.writeStringField("definition", "logit(answer) - logit(other) at the last position");
            g.writeNumberField("answer", a);
            g.writeStringField("answer_token", SingleTokens.label(m, a));
            g.writeNumberField("other", b);
            g.writeStringField("other_token", SingleTokens.label(m, b));
            g.writeStringField("chosen_by", chosenBy);
            g.writeNumberField("clean", cleanDiff);
            g.writeNumberField("corrupt", corruptDiff);
            g.writeEndObject();
            g.writeObjectFieldStart("patched");
            for (Map.Entry<HookPoint, double[][]> e : grids.entrySet()) {
                g.writeArrayFieldStart(name(e.getKey()));
                for (double[] row : e.getValue()) g.writeArray(row, 0, row.length);
                g.writeEndArray();
            }
            g.writeEndObject();
            if (heads != null) {
                g.writeArrayFieldStart("patched_heads");
                for (double[] row : heads) g.writeArray(row, 0, row.length);
                g.writeEndArray();
            }
            g.writeEndObject();
        }

        private void prompt(JsonGenerator g, String name, int[] ids) throws IOException {
            g.writeObjectFieldStart(name);
            g.writeFieldName("ids");
            g.writeArray(ids, 0, ids.length);
            g.writeArrayFieldStart("tokens");
            for (String t : LensCommand.labels(m, ids)) g.writeString(t);
            g.writeEndArray();
            g.writeEndObject();
        }

        private String csv() {
            StringBuilder s = new StringBuilder("hook,layer,position,token,logit_difference,restored\n");
            for (Map.Entry<HookPoint, double[][]> e : grids.entrySet()) {
                String hook = name(e.getKey());
                for (int l = 0; l < e.getValue().length; l++) {
                    for (int t = 0; t < e.getValue()[l].length; t++) {
                        double v = e.getValue()[l][t];
                        s.append(hook).append(',').append(l).append(',').append(t).append(',').append(csvField(SingleTokens.label(m, corrupt[t]))).append(',')
                                .append(v).append(',').append(restoredDefined() ? Double.toString(restored(v)) : "").append('\n');
                    }
                }
            }
            return s.toString();
        }

        private static String csvField(String s) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
    }
}
