/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.UserError;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.io.EvaluationText;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.OutputPaths;
import io.jsteer.cli.io.Prompt;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.io.ResumableJsonl;
import io.jsteer.cli.options.ContrastOptions;
import io.jsteer.cli.options.EvaluationOptions;
import io.jsteer.cli.options.SamplingOptions;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.SweepInterventions;
import io.jsteer.cli.steer.SweepRun;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.SweepRow;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code apply}, {@code eval}, {@code sweep} and {@code vector} as Spark applications, with the
 * local commands' options and output files: {@code ./jsteer COMMAND ... --spark local[N]} runs
 * Spark embedded, and {@code spark-submit --class io.jsteer.spark.SparkMain} runs the same on a
 * cluster (the master then comes from spark-submit). The results are the local commands'.
 */
@Command(name = "jsteer", mixinStandardHelpOptions = true, subcommands = {SparkMain.Apply.class, SparkMain.Eval.class, SparkMain.Sweep.class, SparkMain.Vector.class},
        description = "jsteer jobs on Apache Spark.")
public final class SparkMain {
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line; errors in the input are one line on {@code err} and exit status 1. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new SparkMain());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            if (!(e instanceof UserError || e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException)) throw e;
            line.getErr().println("jsteer: error: " + e.getMessage());
            return 1;
        });
        return cl.execute(args);
    }

    private static com.fasterxml.jackson.databind.JsonNode parse(String line) {
        try {
            return OutputFiles.JSON_LINE.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a row just written is not JSON: " + line, e);
        }
    }

    /** What every command shares: the Spark master, the model, the executors' batch size and threads. */
    static final class Common {
        @Option(names = "--spark", paramLabel = "MASTER", description = "Spark master, e.g. local[2] (embedded, no cluster needed); "
                + "absent: the one spark-submit gives.")
        String master;

        @Option(names = {"-m", "--model"}, paramLabel = "DIR", defaultValue = DefaultModel.NAME,
                description = "Hugging Face model folder at the same path on every node, or 'default' (built on first use). Default: ${DEFAULT-VALUE}.")
        String model;

        @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to use instead of the model folder's.")
        Path tokenizer;

        @Option(names = "--batch-size", paramLabel = "N", defaultValue = "0", description = "Sequences per forward pass in a task (default: from the free heap).")
        int batchSize;

        @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Kernel threads per executor JVM (default: its cores).")
        int threads;

        @Option(names = "--force", description = "Replace an existing output.")
        boolean force;

        SparkSession session(String command) {
            SparkSession.Builder b = SparkSession.builder().appName("jsteer " + command);
            if (master != null) b = b.master(master);
            if (master != null && master.startsWith("local")) {
                // embedded: no web UI, and nothing listening beyond the loopback address
                b = b.config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
            }
            return b.getOrCreate();
        }

        ModelSource source() {
            if (model.equals(DefaultModel.NAME)) return ModelSource.defaultModel();
            return new ModelSource(Path.of(model).toAbsolutePath().toString(), tokenizer == null ? null : tokenizer.toAbsolutePath().toString());
        }

        Options options() {
            return Options.defaults().withBatchSize(batchSize).withThreads(threads);
        }
    }

    /**
     * The steering of the local commands' options ({@code --vector} or {@code --method} with its
     * contrast prompts), built on the driver as the local command builds it ({@code intervention}),
     * in the form that travels to the executors.
     */
    static Steer steer(SteeringOptions options, LoadedModel m, Intervention intervention) {
        SteeringOptions.Request r = options.request();
        if (intervention instanceof AddVector add) {
            String positions = r.vector() != null ? r.positions() : r.method().params().get("positions");
            return Steer.vector(add.vector(), add.coefficient(), positions == null ? "all" : positions);
        }
        return Steer.fitted(r.method().toString(), m, options.contrast().set(m, "--method " + r.method().name()), intervention);
    }

    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        @Override
        public final Integer call() {
            execute();
            out().flush();
            return 0;
        }

        abstract void execute();
    }

    @Command(name = "apply", mixinStandardHelpOptions = true, description = "Steer every prompt of a file on the cluster; the local command's JSONL/JSON, or Parquet with the provenance columns.")
    static final class Apply extends Base {
        @Option(names = "--prompts", paramLabel = "FILE", required = true, description = "Prompts to continue (one per line, or .jsonl).")
        Path prompts;

        @Mixin
        SteeringOptions steering;

        @Mixin
        SamplingOptions sampling;

        @Option(names = "--with-unsteered", description = "Also generate each unsteered continuation (same seed).")
        boolean withUnsteered;

        @Option(names = {"-o", "--out"}, paramLabel = "FILE", required = true,
                description = "FILE.jsonl or FILE.json (as the local command), or DIR.parquet (also a cluster file system's URI, e.g. hdfs:///out/run.parquet).")
        String outArg;

        @Override
        void execute() {
            boolean parquet = outArg.endsWith(".parquet"), remote = outArg.contains(":/");
            if (remote && !parquet) throw new UserError("-o " + outArg + ": only Parquet output (DIR.parquet) goes to a cluster file system");
            Path out = remote ? null : Path.of(outArg);
            if (parquet && !remote) OutputPaths.directory("-o", out, common.force);
            else if (!parquet) ResumableJsonl.checkTarget(out, false, common.force);
            List<PromptFiles.Numbered> numbered = PromptFiles.numbered(prompts);
            List<Prompt> texts = numbered.stream().map(PromptFiles.Numbered::prompt).toList();
            ModelSource source = common.source();
            LoadedModel m = ModelCache.get(source, 0);
            if (!steering.given()) throw new UserError("nothing to apply: give --vector FILE or --method SPEC");
            sampling.sampler(); // bad sampling settings fail here, before Spark starts
            Steer steer = steer(steering, m, steering.build(m));
            SparkSession spark = common.session("apply");
            StructType schema = new StructType().add("index", DataTypes.IntegerType, false).add("prompt", DataTypes.StringType, true)
                    .add("ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true);
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = texts.get(i).ids();
                rows.add(RowFactory.create(i, texts.get(i).text(), ids == null ? null : java.util.Arrays.stream(ids).boxed().toList()));
            }
            Options o = common.options().withMaxNewTokens(sampling.maxNewTokens).withSampling(sampling.temperature(), sampling.topK(), sampling.topP(), sampling.seed)
                    .withIgnoreEos(sampling.ignoreEos()).withUnsteered(withUnsteered);
            Dataset<Row> result = JsteerSpark.generate(spark.createDataFrame(rows, schema), source, steer, o);
            if (parquet) {
                result.write().mode(common.force ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(outArg);
                out().printf("wrote %s: %d prompts steered with %s%n", outArg, texts.size(), steer.setting());
                return;
            }
            // the local command's run key: what produced the rows
            String run = "apply " + steer.setting() + " " + sampling.describe() + (withUnsteered ? " with unsteered" : "");
            int failed = 0;
            try (ResumableJsonl results = ResumableJsonl.open(out, run, texts.stream().map(Prompt::label).toList(), false)) {
                for (Row r : result.orderBy("index").collectAsList()) {
                    int index = r.<Integer>getAs("index");
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("prompt", texts.get(index).label());
                    if (r.getAs("error") != null) {
                        line.put("line", numbered.get(index).line());
                        line.put("error", r.getAs("error"));
                        failed++;
                    } else {
                        line.put("steered", r.getAs("continuation"));
                        line.put("steered_ids", ints(r.getList(r.fieldIndex("continuation_ids"))));
                        if (withUnsteered) {
                            line.put("unsteered", r.getAs("unsteered"));
                            line.put("unsteered_ids", ints(r.getList(r.fieldIndex("unsteered_ids"))));
                        }
                    }
                    results.write(index, line);
                }
                if (out.getFileName().toString().endsWith(".json")) {
                    results.finish(lines -> OutputFiles.writeJson(out, Map.of("steering", steer.setting(), "results", lines.stream().map(SparkMain::parse).toList())));
                } else {
                    results.finish();
                }
            }
            out().printf("wrote %s: %d prompts steered with %s%n", out, texts.size() - failed, steer.setting());
            if (failed > 0) throw new UserError(failed + " of " + texts.size() + " prompts failed (their rows in " + out + " hold the error)");
        }

        private static int[] ints(List<Object> l) {
            return l.stream().mapToInt(x -> ((Number) x).intValue()).toArray();
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate one steering setting with the items spread over the cluster (the local eval's statistics and JSON).")
    static final class Eval extends Base {
        @Mixin
        SteeringOptions steering;

        @Mixin
        EvaluationOptions evaluation;

        @Option(names = {"-o", "--out"}, paramLabel = "FILE.json", description = "Also write the evaluation as JSON.")
        Path out;

        @Override
        void execute() {
            if (out != null) OutputPaths.file("-o", out, common.force);
            ModelSource source = common.source();
            LoadedModel m = ModelCache.get(source, 0);
            if (!steering.given()) throw new UserError("nothing to evaluate: give --vector FILE or --method SPEC");
            // as the local eval: the steering header (vector and residual norms) on stderr, --coeff-unit applied
            Steer steer = steer(steering, m, steering.build(m, evaluation.heldoutIds(m), spec.commandLine().getErr()));
            Evaluation e = SparkEvaluation.eval(common.session("eval"), source, EvalSpec.of(m, evaluation), steer, common.options(), 0);
            out().print(EvaluationText.describe(e));
            if (out != null) OutputFiles.writeJson(out, EvaluationText.json(e));
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true, description = "Sweep layer x coefficient (x k) with every setting's items spread over the cluster; "
            + "writes the local sweep's sweep.csv, sweep.json, plots and report.html.")
    static final class Sweep extends Base {
        @Option(names = "--method", paramLabel = "SPEC", required = true, description = "Method and fixed parameters, e.g. caa.")
        String method;

        @Mixin
        ContrastOptions contrast;

        @Option(names = "--layers", paramLabel = "L1,L2,...", split = ",", required = true, description = "Layers to steer.")
        List<Integer> layers;

        @Option(names = "--coeffs", paramLabel = "C1,C2,...", split = ",", required = true, description = "Coefficients.")
        List<Double> coefficients;

        @Option(names = "--ks", paramLabel = "K1,K2,...", split = ",", description = "Values of k, for the sparse methods.")
        List<Integer> ks;

        @Mixin
        EvaluationOptions evaluation;

        @Mixin
        SamplingOptions sampling;

        @Option(names = "--max-ppl-ratio", paramLabel = "R", defaultValue = SweepRun.DEFAULT_MAX_PERPLEXITY_RATIO, description = "Damage budget for the best setting (default ${DEFAULT-VALUE}).")
        double maxPerplexityRatio;

        @Option(names = "--examples", paramLabel = "N", defaultValue = "3", description = "Example generations in the report (default ${DEFAULT-VALUE}).")
        int examples;

        @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Output directory.")
        Path out;

        @Override
        void execute() {
            OutputPaths.directory("-o", out, common.force);
            ModelSource source = common.source();
            LoadedModel m = ModelCache.get(source, 0);
            MethodSpec spec = MethodSpec.parse(method);
            SweepGrid grid;
            try {
                grid = new SweepGrid(layers, coefficients, ks);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            ContrastSet data = contrast.set(m, "jsteer sweep");
            EvalSpec eval = EvalSpec.of(m, evaluation);
            SweepResult result = SparkEvaluation.sweep(common.session("sweep"), source, eval, grid, method, data, common.options(), 0);
            Map<String, String> meta = SweepRun.metadata(common.model, spec, data);
            List<Prompt> prompts = evaluation.prompts();
            java.util.concurrent.atomic.AtomicReference<Optional<SweepRow>> best = new java.util.concurrent.atomic.AtomicReference<>();
            OutputPaths.replaceDirectory(out, dir -> best.set(SweepRun.write(dir, "jsteer sweep: " + spec.name(), meta, result, maxPerplexityRatio,
                    new SweepInterventions(spec, m.model(), data), m, prompts.subList(0, Math.min(examples, prompts.size())), sampling.maxNewTokens,
                    sampling::sampler)));
            out().printf("wrote %s: %d settings (%s, %s, %s and the plots as PNG)%n", out, result.rows().size(), SweepRun.CSV, SweepRun.JSON, SweepRun.REPORT);
            out().println(best.get().map(r -> "best within perplexity x" + maxPerplexityRatio + ": " + r.point() + ", " + r.evaluation().onTarget().measure()
                    + " change " + String.format("%+.4g", r.evaluation().onTarget().mean())).orElse("no setting stays within perplexity x" + maxPerplexityRatio));
        }
    }

    @Command(name = "vector", mixinStandardHelpOptions = true, description = "Fit a vector from a contrast JSONL too large for one machine: "
            + "each partition reduces its activations to exact moments; saves the local command's .safetensors (methods fitted from moments: caa, sparse-mean-diff).")
    static final class Vector extends Base {
        @Option(names = "--method", paramLabel = "SPEC", required = true, description = "caa or sparse-mean-diff with their parameters, e.g. caa:layer=2.")
        String method;

        @Option(names = "--contrast", paramLabel = "FILE.jsonl", required = true, description = "Contrast pairs {\"positive\", \"negative\"}, a path every node can read.")
        Path contrast;

        @Option(names = {"-o", "--out"}, paramLabel = "FILE.safetensors", required = true, description = "Where to save the vector.")
        Path out;

        @Override
        void execute() {
            OutputPaths.file("-o", out, common.force);
            MethodSpec spec = MethodSpec.parse(method);
            SparkSession spark = common.session("vector");
            SteeringVector v = SparkVectors.fit(spark.read().json(contrast.toString()), common.source(), spec.toString(), common.model, common.options());
            if (!(v.norm() > 0)) throw new UserError(v.method() + " fitted an all-zero vector at " + v.hook() + ": the positive and negative prompts do not differ there");
            VectorFiles.save(out, v);
            out().printf("wrote %s: %s at %s, %d values, norm %.4g%n", out, v.method(), v.hook(), v.width(), v.norm());
        }
    }
}
