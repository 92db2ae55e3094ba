/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.defaultmodel.DefaultModel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line on Spark ({@code --spark local[N]}) writes the local commands' files, byte for byte. */
class SparkMainTest {
    static final String MASTER = "local[2,3]";
    static Path vector;
    @TempDir
    static Path files;

    @BeforeAll
    static void start() throws Exception {
        EvaluationJobsTest.files = files;
        EvaluationJobsTest.start();
        vector = Path.of(ModelSource.defaultModel().dir()).resolve(DefaultModel.PLANTED_DIRECTION);
    }

    static String spark(Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < a.length; i++) a[i] = args[i].toString();
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = SparkMain.run(a, new PrintWriter(out, true), new PrintWriter(err, true));
        if (exit != 0) throw new AssertionError("jsteer --spark exited " + exit + "\nstdout: " + out + "\nstderr: " + err);
        return out.toString();
    }

    @Test
    void applyWritesTheLocalJsonLinesAndParquetWithProvenance(@TempDir Path tmp) throws Exception {
        Path prompts = Files.write(tmp.resolve("prompts.txt"), DatasetJobsTest.PROMPTS);
        Path local = tmp.resolve("local.jsonl"), mine = tmp.resolve("spark.jsonl");
        LocalSpark.cli("apply", "--prompts", prompts, "--vector", vector, "-c", 4, "-n", 6, "-t", 0.8, "--seed", 3, "--with-unsteered", "-o", local);
        spark("apply", "--spark", MASTER, "--prompts", prompts, "--vector", vector, "-c", 4, "-n", 6, "-t", 0.8, "--seed", 3, "--with-unsteered", "-o", mine);
        assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(mine));

        Path parquet = tmp.resolve("out.parquet");
        spark("apply", "--spark", MASTER, "--prompts", prompts, "--vector", vector, "-c", 4, "-n", 6, "-o", parquet);
        List<Row> rows = LocalSpark.get().read().parquet(parquet.toString()).orderBy("index").collectAsList();
        assertEquals(DatasetJobsTest.PROMPTS.size(), rows.size());
        assertEquals(ModelSource.defaultModel().fingerprint(), rows.getFirst().getAs("model_fingerprint"));
        assertEquals(Steer.vector(vector, 4, "all").hash(), rows.getFirst().getAs("vector_hash"));
    }

    @Test
    void vectorWritesTheLocalVector(@TempDir Path tmp) throws Exception {
        for (String method : List.of("caa:layer=2", "sparse-mean-diff:layer=1,k=5")) {
            Path local = tmp.resolve("local.safetensors"), mine = tmp.resolve("spark.safetensors");
            LocalSpark.cli("vector", "--method", method, "--contrast", EvaluationJobsTest.contrast, "-o", local, "--force");
            spark("vector", "--spark", MASTER, "--method", method, "--contrast", EvaluationJobsTest.contrast, "-o", mine, "--force");
            // moments rounded once from exact sums on both sides: the same file, byte for byte (EvaluationJobsTest varies the partitioning)
            assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(mine), method);
        }
    }

    @Test
    void sweepAndEvalWriteTheLocalFiles(@TempDir Path tmp) throws Exception {
        Path local = tmp.resolve("local"), mine = tmp.resolve("spark");
        Object[] common = {"--contrast", EvaluationJobsTest.contrast, "--target-name", "love", "--target-words", EvaluationJobsTest.LOVE,
            "--spillover", "war=" + EvaluationJobsTest.WAR, "--eval-prompts", EvaluationJobsTest.prompts, "--heldout", EvaluationJobsTest.heldout,
            "--eval-tokens", 4, "-n", 5};
        LocalSpark.cli(concat(new Object[] {"sweep", "--method", "caa", "--layers", "1,3", "--coeffs", "2,5", "-o", local}, common));
        String said = spark(concat(new Object[] {"sweep", "--spark", MASTER, "--method", "caa", "--layers", "1,3", "--coeffs", "2,5", "-o", mine}, common));
        assertTrue(said.startsWith("wrote " + mine + ": 4 settings"), said);
        List<String> names;
        try (Stream<Path> s = Files.list(local)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        for (String name : names) assertArrayEquals(Files.readAllBytes(local.resolve(name)), Files.readAllBytes(mine.resolve(name)), name);

        Path le = tmp.resolve("local.json"), me = tmp.resolve("spark.json");
        Object[] eval = {"--method", "caa:layer=2", "-c", 3, "--contrast", EvaluationJobsTest.contrast, "--target-name", "love", "--target-words",
            EvaluationJobsTest.LOVE, "--eval-prompts", EvaluationJobsTest.prompts, "--heldout", EvaluationJobsTest.heldout, "--eval-tokens", 4};
        String localText = LocalSpark.cli(concat(new Object[] {"eval", "-o", le}, eval));
        String sparkText = spark(concat(new Object[] {"eval", "--spark", MASTER, "-o", me}, eval));
        assertEquals(localText, sparkText);
        assertArrayEquals(Files.readAllBytes(le), Files.readAllBytes(me));
    }

    @Test
    void evalAndSweepWithAnswersAndNormCoefficientsWriteTheLocalFiles(@TempDir Path tmp) throws Exception {
        Path answers = Files.writeString(tmp.resolve("answers.jsonl"), """
                {"prompt": "The old man walked to the", "target": " wedding", "counter": " battle"}
                {"prompt": "In the morning the", "target": " bride", "counter": " soldiers"}
                {"prompt": "The people of the town", "target": " wedding", "counter": " battle"}
                """);
        Path le = tmp.resolve("local.json"), me = tmp.resolve("spark.json");
        Object[] eval = {"--vector", vector, "-c", 0.5, "--coeff-unit", "norm", "--answers", answers, "--target-name", "love-vs-war",
            "--spillover", "war=" + EvaluationJobsTest.WAR, "--heldout", EvaluationJobsTest.heldout, "--eval-tokens", 3};
        String localText = LocalSpark.cli(concat(new Object[] {"eval", "-o", le}, eval));
        String sparkText = spark(concat(new Object[] {"eval", "--spark", MASTER, "-o", me}, eval));
        assertTrue(localText.contains("love-vs-war"), localText);
        assertEquals(localText, sparkText);
        assertArrayEquals(Files.readAllBytes(le), Files.readAllBytes(me));

        Path local = tmp.resolve("local"), mine = tmp.resolve("spark");
        Object[] sweep = {"--method", "caa", "--layers", "2", "--coeffs", "2", "--contrast", EvaluationJobsTest.contrast, "--answers", answers,
            "--heldout", EvaluationJobsTest.heldout, "--eval-tokens", 3, "-n", 4, "-t", 0.7, "--seed", 5};
        LocalSpark.cli(concat(new Object[] {"sweep", "-o", local}, sweep));
        spark(concat(new Object[] {"sweep", "--spark", MASTER, "-o", mine}, sweep));
        List<String> names;
        try (Stream<Path> s = Files.list(local)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        for (String name : names) assertArrayEquals(Files.readAllBytes(local.resolve(name)), Files.readAllBytes(mine.resolve(name)), name);
    }

    static Object[] concat(Object[] a, Object[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray();
    }
}
