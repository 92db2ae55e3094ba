/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.demo;

import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.defaultmodel.Topics;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.io.SideBySide;
import io.jsteer.cli.steer.Contrasts;
import io.jsteer.cli.steer.Continuation;
import io.jsteer.cli.steer.Evaluations;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.SweepInterventions;
import io.jsteer.cli.steer.SweepRun;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.Evaluator;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import io.jsteer.steering.eval.WordScore;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The guided tour behind {@code jsteer demo}: on the built-in default model (see
 * {@link DefaultModel}), fit a CAA vector from built-in love-vs-war contrast prompts, show
 * unsteered and steered continuations side by side, sweep layers and coefficients, and write the
 * vector, the data, the sweep results and an HTML report into one folder. Everything runs
 * offline; the data files it writes are the inputs of the equivalent {@code jsteer} commands,
 * which it prints so each step can be rerun by hand.
 */
public final class Demo {
    /**
     * @param out         output folder
     * @param layer       block whose resid_post the CAA vector is read from and added to
     * @param coefficient steering strength of the side-by-side examples
     * @param layers      sweep layers
     * @param coefficients sweep coefficients
     * @param evalTokens  tokens generated per held-out prompt in the sweep
     * @param seed        sampling seed of every continuation
     */
    public record Settings(Path out, int layer, double coefficient, List<Integer> layers, List<Double> coefficients, int evalTokens, long seed) {
        public static Settings defaults(Path out) {
            return new Settings(out, 2, 2, List.of(0, 2), List.of(-2.0, 1.0, 2.0, 4.0, 8.0), 12, 1);
        }
    }

    /** Example continuations: sampled, so the text is not a greedy bigram loop; steered and unsteered share the seed. */
    static final double TEMPERATURE = 0.7;
    static final int EXAMPLE_TOKENS = 24;
    /** Prompts shown side by side and in the report. */
    static final int EXAMPLES = 3;
    /** The report's damage budget, the sweep's default. */
    static final double MAX_PERPLEXITY_RATIO = Double.parseDouble(SweepRun.DEFAULT_MAX_PERPLEXITY_RATIO);

    private final Settings s;
    private final PrintWriter out, err;

    private Demo(Settings s, PrintWriter out, PrintWriter err) {
        this.s = s;
        this.out = out;
        this.err = err;
    }

    /** Runs the tour, printing to {@code out} (results) and {@code err} (progress). */
    public static void run(Settings settings, PrintWriter out, PrintWriter err) {
        new Demo(settings, out, err).run();
    }

    private void run() {
        long start = System.nanoTime();
        Path dir = s.out();
        OutputFiles.createDirectories(dir);
        Path contrastFile = copyResource("contrast.jsonl", dir);
        Path promptsFile = copyResource("prompts.txt", dir);
        Path heldoutFile = copyResource("heldout.txt", dir);

        out.println("== 1. The built-in default model");
        Path modelDir = DefaultModel.defaultDirectory();
        if (!DefaultModel.isCurrent(modelDir)) err.println("building it in " + modelDir + " (once)...");
        DefaultModel.ensure(modelDir);
        LoadedModel m = new LoadedModel(DefaultModel.NAME, modelDir, Model.load(modelDir), Tokenizers.load(modelDir.resolve("tokenizer.json")));
        var c = m.model().config();
        out.printf(Locale.ROOT, "%s: GPT-NeoX, %d blocks, width %d, Pythia tokenizer (%d tokens); a bigram/skip-gram model of a small built-in%n"
                + "corpus with a planted direction u that moves love words up and war words down (see DefaultModel's Javadoc).%n",
                modelDir, c.numLayers(), c.hiddenSize(), m.tokenizer().vocabSize());
        out.println("Layers: " + DefaultModel.layerNote() + ".");
        out.println();

        out.println("== 2. A CAA steering vector from " + contrastFile.getFileName());
        PromptFiles.Contrast texts = PromptFiles.contrast(contrastFile);
        ContrastSet data = Contrasts.tokenize(texts, m);
        HookName hook = new HookName(s.layer(), HookPoint.RESID_POST);
        SteeringVector v = new Caa(hook, 1).fitVector(m.model(), data).withModel(DefaultModel.NAME);
        Path vectorFile = dir.resolve("caa.safetensors");
        VectorFiles.save(vectorFile, v);
        SteeringVector planted = DefaultModel.plantedDirection(modelDir);
        out.printf(Locale.ROOT, "mean difference of %d love/war prompt pairs at %s: norm %.3f, cosine with the planted u %.3f%n",
                data.positive().size(), hook, v.norm(), cosine(v.direction(), planted.direction()));
        out.printf("saved %s   (jsteer vector --method caa:layer=%d --contrast %s -o %s)%n%n", vectorFile, s.layer(), contrastFile, vectorFile);

        out.printf(Locale.ROOT, "== 3. Unsteered vs steered (coefficient %+.1f = love, %+.1f = war; temperature %.1f, seed %d)%n",
                s.coefficient(), -s.coefficient(), TEMPERATURE, s.seed());
        List<Prompt> prompts = PromptFiles.prompts(promptsFile);
        AddVector love = new AddVector(v, s.coefficient(), PositionRule.all());
        AddVector war = new AddVector(v, -s.coefficient(), PositionRule.all());
        int width = SideBySide.terminalWidth();
        List<Prompt> shown = prompts.subList(0, Math.min(EXAMPLES, prompts.size()));
        List<Continuation.Request> requests = new ArrayList<>();
        for (Prompt p : shown) {
            int[] ids = m.encode(p);
            for (AddVector steering : Arrays.asList(null, love, war)) {
                requests.add(new Continuation.Request(ids, EXAMPLE_TOKENS, new Sampler(TEMPERATURE, 0, 1, s.seed()), new int[0], steering));
            }
        }
        List<Continuation.Outcome> continuations = Continuation.generateAll(m, requests);
        for (int i = 0; i < shown.size(); i++) {
            out.println("prompt: \"" + shown.get(i).label() + "\"");
            out.print(SideBySide.render(List.of("unsteered", String.format(Locale.ROOT, "steered x%+.1f (love)", s.coefficient()),
                    String.format(Locale.ROOT, "steered x%+.1f (war)", -s.coefficient())),
                    List.of(continuations.get(3 * i).get().text(), continuations.get(3 * i + 1).get().text(), continuations.get(3 * i + 2).get().text()), width));
            out.println();
        }
        out.printf(Locale.ROOT, "(jsteer generate -p \"%s\" -t %.1f --seed %d -n %d --vector %s -c %.1f)%n%n", prompts.getFirst().label(), TEMPERATURE, s.seed(),
                EXAMPLE_TOKENS, vectorFile, s.coefficient());

        out.println("== 4. Sweep: layers " + s.layers() + " x coefficients " + s.coefficients());
        Decoding decoding = new Decoding(s.evalTokens(), 0, 0, 1, s.seed());
        Evaluator evaluator = Evaluations.wordScore(m, new Evaluations.NamedWords("love", Topics.LOVE), prompts, PromptFiles.prompts(heldoutFile),
                List.of(new Evaluations.NamedWords("war", Topics.WAR)), decoding, WordScore.Statistic.PROBABILITY_MASS);
        MethodSpec spec = MethodSpec.parse("caa");
        SweepInterventions factory = new SweepInterventions(spec, m.model(), data);
        SweepResult result = SweepRun.run(evaluator, SweepGrid.of(s.layers(), s.coefficients()), factory, err);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", "jsteer default model (" + modelDir + ")");
        meta.put("layers", DefaultModel.layerNote());
        meta.put("method", "CAA, last-token readout, added at all positions");
        meta.put("contrast data", data.positive().size() + " love/war prompt pairs (" + contrastFile.getFileName() + ")");
        meta.put("on-target", "probability mass of " + Topics.LOVE.size() + " love words over " + s.evalTokens() + " greedy tokens after each of "
                + prompts.size() + " prompts");
        meta.put("spillover", "the same for " + Topics.WAR.size() + " war words");
        meta.put("perplexity", "held-out neutral sentences (" + heldoutFile.getFileName() + ")");
        Optional<SweepRow> best = SweepRun.write(dir, "jsteer demo: CAA on the default model", meta, result, MAX_PERPLEXITY_RATIO, factory, m,
                prompts.subList(0, Math.min(EXAMPLES, prompts.size())), EXAMPLE_TOKENS, () -> new Sampler(TEMPERATURE, 0, 1, s.seed()));
        out.println(table(result));
        best.ifPresent(r -> out.printf(Locale.ROOT, "best within perplexity x%.2f: %s (love mass %+.3f, perplexity x%.2f)%n", MAX_PERPLEXITY_RATIO,
                r.point(), r.evaluation().onTarget().mean(), r.evaluation().perplexity().ratio()));
        Path args = writeArgs(dir.resolve("sweep.args"), List.of("--method", "caa", "--contrast", contrastFile.toString(), "--layers", join(s.layers()),
                "--coeffs", join(s.coefficients()), "--eval-prompts", promptsFile.toString(), "--eval-tokens", Integer.toString(s.evalTokens()),
                "--target-name", "love", "--target-words", String.join(",", Topics.LOVE), "--spillover", "war=" + String.join(",", Topics.WAR),
                "--heldout", heldoutFile.toString(), "--max-ppl-ratio", Double.toString(MAX_PERPLEXITY_RATIO), "--examples", Integer.toString(EXAMPLES),
                "-t", Double.toString(TEMPERATURE), "--seed", Long.toString(s.seed()), "-n", Integer.toString(EXAMPLE_TOKENS)));
        out.printf("(jsteer sweep @%s -o %s   reruns this sweep; the file lists its arguments)%n%n", args, dir);

        out.printf(Locale.ROOT, "Wrote %s: report.html, plots (PNG), sweep.csv, sweep.json, caa.safetensors and the demo data (%.1f s).%n",
                dir, (System.nanoTime() - start) / 1e9);
    }

    private static String table(SweepResult r) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%5s %7s %12s %12s %10s%n", "layer", "coeff", "love mass", "war mass", "ppl ratio"));
        for (SweepRow row : r.rows()) {
            var e = row.evaluation();
            b.append(String.format(Locale.ROOT, "%5d %+7.1f %+12.4f %+12.4f %10.3f%n", row.point().layer(), row.point().coefficient(),
                    e.onTarget().mean(), e.spillover().getFirst().mean(), e.perplexity().ratio()));
        }
        return b.toString().stripTrailing();
    }

    private static String join(List<?> values) {
        return String.join(",", values.stream().map(Object::toString).toList());
    }

    private static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    /** Writes command-line arguments one per line, as picocli's {@code @file} expansion reads them. */
    private static Path writeArgs(Path file, List<String> args) {
        StringBuilder b = new StringBuilder();
        for (String a : args) b.append(a.matches("[\\w@%+=:,./-]+") ? a : "\"" + a.replace("\\", "\\\\").replace("\"", "\\\"") + "\"").append('\n');
        OutputFiles.writeText(file, b.toString());
        return file;
    }

    /** Writes the built-in data file {@code name} into {@code dir} and returns its path. */
    private static Path copyResource(String name, Path dir) {
        try (InputStream in = Demo.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("built-in demo file " + name + " is missing from the jsteer jar");
            byte[] bytes = in.readAllBytes();
            Path target = dir.resolve(name);
            OutputFiles.write(target, o -> o.write(bytes));
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read built-in demo file " + name, e);
        }
    }
}
