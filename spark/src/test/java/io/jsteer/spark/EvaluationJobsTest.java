/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.io.EvaluationText;
import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.steer.Contrasts;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.SweepInterventions;
import io.jsteer.cli.steer.SweepRun;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.eval.Decoding;
import io.jsteer.steering.eval.Evaluation;
import io.jsteer.steering.eval.SweepGrid;
import io.jsteer.steering.eval.SweepResult;
import io.jsteer.steering.eval.WordScore;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.transformer.generate.Sampler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval} and {@code sweep} on Spark write what the local commands write, byte for byte. */
class EvaluationJobsTest {
    static final String LOVE = "love,wedding,bride,groom,kiss,heart,dance,happy", WAR = "war,battle,soldiers,army,guns";

    static SparkSession spark;
    static ModelSource model;
    static LoadedModel m;
    @TempDir
    static Path files;
    static Path contrast, prompts, heldout;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.get();
        model = ModelSource.defaultModel();
        m = ModelCache.get(model, 0);
        contrast = Files.writeString(files.resolve("contrast.jsonl"), """
                {"positive": "The bride and groom kiss and dance at the wedding", "negative": "The soldiers and the army march to the battle"}
                {"positive": "I love her with all my heart", "negative": "We fight the war with guns"}
                {"positive": "A happy wedding full of love", "negative": "A long battle full of soldiers"}
                """);
        prompts = Files.write(files.resolve("prompts.txt"), List.of("The old man walked to the", "She said that the", "In the morning we", "The people of the town"));
        heldout = Files.write(files.resolve("heldout.txt"), List.of("The old man walked to the market in the morning", "She said that the town was quiet", "We went home after the day"));
    }

    static EvalSpec spec(double temperature) throws Exception {
        return EvalSpec.words(m, "love", List.of(LOVE.split(",")), PromptFiles.prompts(prompts), PromptFiles.prompts(heldout),
                Map.of("war", List.of(WAR.split(","))), new Decoding(5, temperature, 0, 1, 9), WordScore.Statistic.PROBABILITY_MASS);
    }

    @Test
    void evalEqualsTheEvalCommand(@TempDir Path tmp) throws Exception {
        Path vector = Path.of(model.dir()).resolve(DefaultModel.PLANTED_DIRECTION);
        Path local = tmp.resolve("local.json");
        String text = LocalSpark.cli("eval", "--vector", vector, "-c", 3, "--target-name", "love", "--target-words", LOVE, "--spillover", "war=" + WAR,
                "--eval-prompts", prompts, "--heldout", heldout, "--eval-tokens", 5, "--eval-temperature", 0.7, "--eval-seed", 9, "-o", local);
        for (int perTask : new int[] {1, 3, 0}) {
            Evaluation e = SparkEvaluation.eval(spark, model, spec(0.7), Steer.vector(vector, 3, "all"), Options.defaults(), perTask);
            Path mine = tmp.resolve("spark-" + perTask + ".json");
            OutputFiles.writeJson(mine, EvaluationText.json(e));
            assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(mine), "items per task " + perTask);
            assertEquals(text, EvaluationText.describe(e));
        }
    }

    @Test
    void sweepWritesTheSweepCommandsFiles(@TempDir Path tmp) throws Exception {
        Path local = tmp.resolve("local"), mine = tmp.resolve("spark");
        LocalSpark.cli("sweep", "--method", "caa", "--layers", "1,2", "--coeffs", "-2,3", "--contrast", contrast, "--target-name", "love",
                "--target-words", LOVE, "--spillover", "war=" + WAR, "--eval-prompts", prompts, "--heldout", heldout, "--eval-tokens", 5,
                "--eval-seed", 9, "-n", 6, "-o", local);

        ContrastSet data = Contrasts.tokenize(PromptFiles.contrast(contrast), m);
        SweepGrid grid = new SweepGrid(List.of(1, 2), List.of(-2.0, 3.0), null);
        SweepResult result = SparkEvaluation.sweep(spark, model, spec(0), grid, "caa", data, Options.defaults(), 2);
        Map<String, String> meta = SweepRun.metadata(DefaultModel.NAME, MethodSpec.parse("caa"), data);
        SweepRun.write(mine, "jsteer sweep: caa", meta, result, Double.parseDouble(SweepRun.DEFAULT_MAX_PERPLEXITY_RATIO), new SweepInterventions(MethodSpec.parse("caa"), m.model(), data), m,
                PromptFiles.prompts(prompts).subList(0, 3), 6, () -> new Sampler(0, 0, 1, 0));

        List<String> names;
        try (Stream<Path> s = Files.list(local)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(names.containsAll(List.of(SweepRun.CSV, SweepRun.JSON, SweepRun.REPORT)), names.toString());
        for (String name : names) assertArrayEquals(Files.readAllBytes(local.resolve(name)), Files.readAllBytes(mine.resolve(name)), name);
    }

    @Test
    void caaFromADatasetIsTheVectorCommandsVectorWhateverThePartitioning(@TempDir Path tmp) {
        Path local = tmp.resolve("caa.safetensors");
        LocalSpark.cli("vector", "--method", "caa:layer=2", "--contrast", contrast, "-o", local);
        SteeringVector expected = VectorFiles.load(local);
        Dataset<Row> pairs = spark.read().json(contrast.toString());
        SteeringVector one = SparkVectors.caa(pairs.repartition(1), model, "blocks.2.hook_resid_post", "last", DefaultModel.NAME, Options.defaults());
        SteeringVector three = SparkVectors.caa(pairs.repartition(3), model, "blocks.2.hook_resid_post", "last", DefaultModel.NAME, Options.defaults());
        assertEquals(one, three, "the same bits from any partitioning");
        assertEquals(expected.hook(), one.hook());
        assertEquals(expected.method(), one.method());
        assertEquals(expected.parameters(), one.parameters());
        assertEquals(expected.model(), one.model());
        // both means rounded once from exact sums (Moments locally, merged per partition on Spark): the same bits
        assertArrayEquals(expected.direction(), one.direction());

        // a method that also needs the variances: exact sums of squares, the same bits too
        Path sparse = tmp.resolve("sparse.safetensors");
        LocalSpark.cli("vector", "--method", "sparse-mean-diff:layer=2,k=8,readout=all", "--contrast", contrast, "-o", sparse);
        SteeringVector fittedHere = VectorFiles.load(sparse);
        for (int parts : new int[] {1, 3}) {
            SteeringVector fitted = SparkVectors.fit(pairs.repartition(parts), model, "sparse-mean-diff:layer=2,k=8,readout=all", DefaultModel.NAME, Options.defaults());
            assertEquals(fittedHere, fitted, parts + " partitions");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkVectors.fit(pairs, model, "whitened-sparse-mean-diff:layer=2,k=8", DefaultModel.NAME, Options.defaults()));
        assertTrue(e.getMessage().contains("not fitted from per-dimension moments alone"), e.getMessage());
    }
}
