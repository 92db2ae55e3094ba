/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.steer.Contrasts;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.eval.TextNll;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Dataset API on the built-in default model, against the local command line and the steering module's own code. */
class DatasetJobsTest {
    static SparkSession spark;
    static ModelSource model;
    static LoadedModel local;
    static Path vectorFile;

    static final List<String> PROMPTS = List.of("The old man walked to the", "She said that the", "In the morning the soldiers",
            "The bride and groom", "We went to the market and", "A quiet night in the");

    @BeforeAll
    static void start() {
        spark = LocalSpark.get();
        model = ModelSource.defaultModel();
        local = ModelCache.get(model, 0);
        vectorFile = Path.of(model.dir()).resolve(DefaultModel.PLANTED_DIRECTION);
    }

    /** The prompts with an id column, in {@code partitions} partitions. */
    static Dataset<Row> prompts(int partitions) {
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("prompt", DataTypes.StringType, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < PROMPTS.size(); i++) rows.add(RowFactory.create(i, PROMPTS.get(i)));
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    static List<Row> byId(Dataset<Row> d) {
        return d.orderBy("id").collectAsList();
    }

    @Test
    void generateEqualsTheApplyCommandWhateverThePartitioningAndBatch(@TempDir Path tmp) throws Exception {
        Path file = Files.write(tmp.resolve("prompts.txt"), PROMPTS);
        Path out = tmp.resolve("out.jsonl");
        LocalSpark.cli("apply", "--prompts", file, "--vector", vectorFile, "-c", 4, "-n", 8, "-t", 0.9, "--seed", 11, "--with-unsteered", "-o", out);
        List<JsonNode> expected = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out)) expected.add(json.readTree(line));

        Steer steer = Steer.vector(vectorFile, 4, "all");
        Options o = Options.defaults().withMaxNewTokens(8).withSampling(0.9, 0, 1, 11).withUnsteered(true);
        List<List<Row>> runs = List.of(
                byId(JsteerSpark.generate(prompts(1), model, steer, o.withBatchSize(1))),
                byId(JsteerSpark.generate(prompts(3), model, steer, o.withBatchSize(4))),
                byId(JsteerSpark.generate(prompts(2), model, steer, o.withChunkRows(2))));
        for (List<Row> rows : runs) {
            assertEquals(PROMPTS.size(), rows.size());
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                JsonNode e = expected.get(i);
                assertNull(r.getAs("error"));
                assertEquals(e.get("steered").asText(), r.getAs("continuation"), "prompt " + i);
                assertEquals(ids(e.get("steered_ids")), ints(r.getList(r.fieldIndex("continuation_ids"))), "prompt " + i);
                assertEquals(e.get("unsteered").asText(), r.getAs("unsteered"), "prompt " + i);
                assertEquals(model.fingerprint(), r.getAs("model_fingerprint"));
                assertEquals(steer.hash(), r.getAs("vector_hash"));
                assertEquals(11L, (Long) r.getAs("seed"));
                assertEquals(steer.setting(), r.getAs("setting"));
            }
        }
        // the steering did something: the vector turns text to love words
        assertTrue(runs.get(0).stream().anyMatch(r -> !r.getAs("continuation").equals(r.getAs("unsteered"))));
        assertEquals(1, ModelCache.loads(model), "the checkpoint is mapped once per JVM");
    }

    @Test
    void scoreEqualsTextNll() {
        Steer steer = Steer.vector(vectorFile, 3, "all");
        Intervention local = steer.build(DatasetJobsTest.local);
        List<int[]> texts = PROMPTS.stream().map(DatasetJobsTest.local::encode).toList();
        double[] steered = new TextNll(texts).scores(DatasetJobsTest.local.model(), local);
        double[] plain = new TextNll(texts).scores(DatasetJobsTest.local.model(), null);
        List<Row> s = byId(JsteerSpark.score(prompts(3), model, steer, Options.defaults()));
        List<Row> p = byId(JsteerSpark.score(prompts(2), model, Steer.none(), Options.defaults().withBatchSize(2)));
        for (int i = 0; i < PROMPTS.size(); i++) {
            assertEquals(steered[i], (double) s.get(i).getAs("nll"), 0, "prompt " + i);
            assertEquals(Math.exp(steered[i]), (double) s.get(i).getAs("perplexity"), 0);
            assertEquals(texts.get(i).length, (int) s.get(i).getAs("tokens"));
            assertEquals(plain[i], (double) p.get(i).getAs("nll"), 0, "prompt " + i);
            assertNull(p.get(i).getAs("vector_hash"));
            assertEquals("unsteered", p.get(i).getAs("setting"));
            assertNull(p.get(i).getAs("seed"));
        }
    }

    @Test
    void activationsEqualActivationCacheAndSteeredForwardPasses() {
        List<String> points = List.of("blocks.1.hook_resid_post", "blocks.3.hook_mlp_out");
        Options o = Options.defaults().withRecording(points, "all");
        List<int[]> texts = PROMPTS.stream().map(local::encode).toList();
        List<HookName> names = points.stream().map(HookName::parse).toList();
        Activations expected = ActivationCache.record(local.model(), texts, names, Readout.all());
        List<Row> rows = byId(JsteerSpark.activations(prompts(3), model, Steer.none(), o));
        for (int i = 0; i < texts.size(); i++) {
            Row r = rows.get(i);
            assertEquals(ints(expected.positions(names.get(0), i)), ints(r.getList(r.fieldIndex("positions"))));
            for (HookName h : names) assertArrayEquals(expected.rows(h, i), flat(r.getList(r.fieldIndex(ActivationsJob.column(h)))), h + " prompt " + i);
        }

        // steered at layer 2 (the planted vector's point is blocks.2.hook_resid_post): the last position of block 3 moves
        Steer steer = Steer.vector(vectorFile, 5, "all");
        Intervention intervention = steer.build(local);
        List<Row> steered = byId(JsteerSpark.activations(prompts(2), model, steer, Options.defaults().withRecording(List.of("blocks.3.hook_resid_post"), "last")));
        for (int i = 0; i < texts.size(); i++) {
            State state = local.model().newState();
            float[][] seen = new float[1][];
            int last = texts.get(i).length - 1;
            try (Hooks.Handle h = intervention.attach(state);
                 Hooks.Handle rec = state.hooks().add(HookName.parse("blocks.3.hook_resid_post"),
                         (ctx, x) -> seen[0] = Arrays.copyOfRange(x, (last - ctx.startPos()) * ctx.width(), (last - ctx.startPos() + 1) * ctx.width()))) {
                local.model().forward(state, texts.get(i), false);
            }
            Row r = steered.get(i);
            assertArrayEquals(seen[0], flat(r.getList(r.fieldIndex("blocks_3_hook_resid_post"))), "prompt " + i);
            assertEquals(List.of(last), ints(r.getList(r.fieldIndex("positions"))));
        }
    }

    @Test
    void badPromptsFailTheirOwnRows() {
        int vocab = local.model().config().vocabSize(), context = local.model().config().maxPositions();
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("prompt", DataTypes.StringType, true)
                .add("ids", DataTypes.createArrayType(DataTypes.IntegerType), true);
        int[] tooLong = new int[context + 1];
        List<Row> rows = List.of(
                RowFactory.create(0, "The old man walked to the", null),
                RowFactory.create(1, "", null),
                RowFactory.create(2, null, List.of(5, vocab)),
                RowFactory.create(3, null, Arrays.stream(tooLong).boxed().toList()),
                RowFactory.create(4, null, List.of()),
                RowFactory.create(5, null, null),
                RowFactory.create(6, null, List.of(5, -1)),
                RowFactory.create(7, null, List.of(464, 1468, 369)));
        Dataset<Row> in = spark.createDataFrame(rows, schema).repartition(2);
        Options o = Options.defaults().withMaxNewTokens(4);
        List<Row> gen = byId(JsteerSpark.generate(in, model, Steer.none(), o));
        String[] errors = {null, "prompt: the prompt is empty", "ids: token id " + vocab + " is outside the vocabulary [0, " + vocab + ")",
                "ids: prompt of " + (context + 1) + " tokens exceeds the model's max_position_embeddings " + context,
                "ids: the prompt is empty", "no prompt: 'prompt' and 'ids' are both null or absent",
                "ids: token id -1 is outside the vocabulary [0, " + vocab + ")", null};
        for (int i = 0; i < errors.length; i++) {
            Row r = gen.get(i);
            assertEquals(errors[i], r.getAs("error"), "row " + i);
            if (errors[i] == null) assertNotNull(r.getAs("continuation"));
            else assertNull(r.getAs("continuation"));
        }
        List<Row> score = byId(JsteerSpark.score(in, model, Steer.none(), o));
        assertNull(score.get(7).getAs("error"));
        assertEquals(errors[2], score.get(2).getAs("error"));
        List<Row> acts = byId(JsteerSpark.activations(in, model, Steer.none(), o.withRecording(List.of("blocks.0.hook_resid_post"), "3")));
        assertEquals("readout: readout token 3 does not exist in a prompt of 3 tokens", acts.get(7).getAs("error"));
        assertNull(acts.get(0).getAs("error"));

        StructType noPrompt = new StructType().add("text", DataTypes.StringType);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsteerSpark.generate(spark.createDataFrame(List.of(RowFactory.create("x")), noPrompt), model, Steer.none(), o));
        assertEquals("the input has neither a prompt text column 'prompt' nor a token ids column 'ids' (columns: text)", e.getMessage());
    }

    /** Fails the first attempt of partition 0 after it has handed on two rows. */
    static final class FailOnce implements MapFunction<Row, Row> {
        private int seen;

        @Override
        public Row call(Row r) {
            TaskContext t = TaskContext.get();
            if (t.partitionId() == 0 && t.attemptNumber() == 0 && ++seen == 2) throw new IllegalStateException("injected failure");
            return r;
        }
    }

    @Test
    void aFailedTaskIsRetriedAndTheOutputHasNoPartialRows(@TempDir Path tmp) {
        Steer steer = Steer.vector(vectorFile, 4, "all");
        Options o = Options.defaults().withMaxNewTokens(6).withChunkRows(1);
        Dataset<Row> result = JsteerSpark.generate(prompts(2), model, steer, o);
        result.map(new FailOnce(), Encoders.row(result.schema())).write().parquet(tmp.resolve("out").toString());
        List<Row> written = byId(spark.read().parquet(tmp.resolve("out").toString()));
        List<Row> reference = byId(JsteerSpark.generate(prompts(1), model, steer, o));
        assertEquals(reference.size(), written.size());
        for (int i = 0; i < reference.size(); i++) {
            assertEquals((String) reference.get(i).getAs("continuation"), written.get(i).getAs("continuation"));
            assertEquals((String) reference.get(i).getAs("model_fingerprint"), written.get(i).getAs("model_fingerprint"));
        }
    }

    @Test
    void aCheckpointShippedWithAddFileAndAMethodFittedAgainOnTheExecutors(@TempDir Path tmp) throws Exception {
        Path contrast = Files.writeString(tmp.resolve("contrast.jsonl"), """
                {"positive": "The bride and groom kiss and dance at the wedding", "negative": "The soldiers and the army march to the battle"}
                {"positive": "I love her with all my heart", "negative": "We fight the war with guns"}
                """);
        Path file = Files.write(tmp.resolve("prompts.txt"), PROMPTS);
        Path out = tmp.resolve("out.jsonl");
        LocalSpark.cli("apply", "--prompts", file, "--method", "ace:layer=2,coeff=2", "--contrast", contrast, "-n", 6, "-o", out);
        List<String> expected = new ArrayList<>();
        for (String line : Files.readAllLines(out)) expected.add(new ObjectMapper().readTree(line).get("steered").asText());

        spark.sparkContext().addFile(model.dir(), true);
        ModelSource shipped = ModelSource.distributed(Path.of(model.dir()).getFileName().toString());
        assertEquals(model.fingerprint(), shipped.fingerprint(), "the same files");
        ContrastSet data = Contrasts.tokenize(PromptFiles.contrast(contrast), local);
        Steer ace = Steer.fit("ace:layer=2,coeff=2", model, data);
        assertTrue(ace instanceof Steer.Fitted, "ACE is not a vector: its recipe travels");
        Steer.Fitted.CACHE.clear(); // as on a remote executor: nothing fitted yet
        List<Row> rows = byId(JsteerSpark.generate(prompts(2), shipped, ace, Options.defaults().withMaxNewTokens(6)));
        for (int i = 0; i < PROMPTS.size(); i++) assertEquals(expected.get(i), rows.get(i).getAs("continuation"), "prompt " + i);
        assertEquals(ace.setting(), rows.getFirst().getAs("setting"));
    }

    @Test
    void theVectorHashIsTheVectorsWhereverItComesFrom() {
        Steer fromFile = Steer.vector(vectorFile, 2, "all");
        Steer fromValues = Steer.vector(VectorFiles.load(vectorFile), 7, "from:3");
        assertEquals(fromFile.hash(), fromValues.hash());
        assertEquals(64, fromFile.hash().length());
        assertTrue(fromValues.setting().endsWith("x7.0 positions >= 3"), fromValues.setting());
    }

    static List<Integer> ids(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asInt()));
        return out;
    }

    static List<Integer> ints(List<?> a) {
        return a.stream().map(x -> ((Number) x).intValue()).toList();
    }

    static List<Integer> ints(int[] a) {
        return Arrays.stream(a).boxed().toList();
    }

    static float[] flat(List<?> rows) {
        List<Float> all = new ArrayList<>();
        for (Object r : rows) {
            if (r instanceof List<?> l) l.forEach(x -> all.add((Float) x));
            else if (r instanceof scala.collection.Seq<?> s) s.foreach(x -> all.add((Float) x));
            else throw new AssertionError("unexpected row type " + r.getClass());
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }
}
