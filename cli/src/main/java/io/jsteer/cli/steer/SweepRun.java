/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.progress.Progress;
import io.jsteer.cli.report.GenerationExample;
import io.jsteer.cli.report.HtmlReport;
import io.jsteer.cli.report.Plot;
import io.jsteer.cli.report.Report;
import io.jsteer.cli.report.SweepCharts;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.eval.AtomicFiles;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.InterventionFactory;
import io.jsteer.steering.eval.Sweep;
import io.jsteer.steering.eval.SweepFiles;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import io.jsteer.transformer.batch.SequenceProgress;
import io.jsteer.transformer.generate.Sampler;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** A sweep with progress, its result files, and the HTML report with example generations at the best setting. */
public final class SweepRun {
    private SweepRun() {}

    /**
     * The default damage budget of the best setting: perplexity may grow by a quarter. Looser
     * budgets chose settings whose example text no longer reads as text (on the default model a
     * budget of 2 picked CAA x4 at block 0: "the dance she smiled the dance went the dance").
     */
    public static final String DEFAULT_MAX_PERPLEXITY_RATIO = "1.25";

    /** File names inside the output directory. */
    public static final String CSV = "sweep.csv", JSON = "sweep.json", REPORT = "report.html";

    /**
     * The report's facts about a sweep of {@code spec} on model {@code model} (as given to
     * {@code -m}) with {@code data}, in the order shown: the same for the local and the Spark
     * sweep, whose folders are byte for byte alike. The default model's gets which of its layers
     * differ ({@link DefaultModel#layerNote()}).
     */
    public static Map<String, String> metadata(String model, MethodSpec spec, ContrastSet data) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", model);
        if (model.equals(DefaultModel.NAME)) meta.put("layers", DefaultModel.layerNote());
        meta.put("method", spec.toString());
        meta.put("contrast pairs", data.positive().size() + " positive / " + data.negative().size() + " negative prompts");
        return meta;
    }

    /**
     * Evaluates every setting of {@code grid}, reporting progress on {@code err} in sequences run
     * (every item of every measure, unsteered once and at each setting).
     */
    public static SweepResult run(Evaluator evaluator, SweepGrid grid, InterventionFactory factory, PrintWriter err) {
        int total = (grid.size() + (evaluator.baselinePending() ? 1 : 0)) * evaluator.sequences();
        try (Progress progress = Progress.start(err, "sweep", total)) {
            return ScopedValue.where(SequenceProgress.FINISHED, () -> progress.step(null)).call(() -> Sweep.run(evaluator, grid, factory, null));
        }
    }

    /**
     * Writes {@link #CSV}, {@link #JSON}, the plots as PNG files and {@link #REPORT} into {@code dir}; the report shows
     * unsteered vs steered continuations of {@code examplePrompts} at the best setting (largest
     * on-target effect within {@code maxPerplexityRatio}), when there is one.
     *
     * @return the best row, if any
     */
    public static Optional<SweepRow> write(Path dir, String title, Map<String, String> metadata, SweepResult result, double maxPerplexityRatio,
                                           InterventionFactory factory, LoadedModel m, List<Prompt> examplePrompts, int maxNewTokens,
                                           Supplier<Sampler> sampler) {
        SweepFiles.writeCsv(result, ensureDir(dir).resolve(CSV));
        SweepFiles.writeJson(result, dir.resolve(JSON));
        Optional<SweepRow> best = result.best(maxPerplexityRatio);
        List<GenerationExample> examples = new ArrayList<>();
        String setting = null;
        if (best.isPresent()) {
            Intervention steer = factory.create(best.get().point());
            setting = steer.describe();
            int[] stops = new int[0];
            List<Continuation.Request> requests = new ArrayList<>();
            for (Prompt p : examplePrompts) {
                int[] ids = m.encode(p);
                requests.add(new Continuation.Request(ids, maxNewTokens, sampler.get(), stops, null));
                requests.add(new Continuation.Request(ids, maxNewTokens, sampler.get(), stops, steer));
            }
            List<Continuation.Outcome> done = Continuation.generateAll(m, requests);
            for (int i = 0; i < examplePrompts.size(); i++) {
                examples.add(new GenerationExample(examplePrompts.get(i).label(), done.get(2 * i).get().text(), done.get(2 * i + 1).get().text()));
            }
        }
        List<Plot> plots = SweepCharts.plots(result, maxPerplexityRatio);
        for (Plot p : plots) AtomicFiles.write(dir.resolve(p.file()), p.png());
        HtmlReport.write(new Report(title, metadata, result, maxPerplexityRatio, setting, examples), plots, dir.resolve(REPORT));
        return best;
    }

    private static Path ensureDir(Path dir) {
        OutputFiles.createDirectories(dir);
        return dir;
    }
}
