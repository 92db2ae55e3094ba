/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.steering.eval.TextNll;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Token-id prompts on the tiny Hugging Face fixtures (no tokenizer): greedy continuations equal the ones Hugging Face computed. */
class FixtureJobsTest {
    static final Path FIXTURES = Path.of("..", "tests", "src", "test", "resources", "fixtures");

    @ParameterizedTest
    @ValueSource(strings = {"pythia-tiny-parallel", "gemma2-tiny"})
    void greedyContinuationsAreHuggingFacesAndScoresAreTextNlls(String fixture) throws Exception {
        SparkSession spark = LocalSpark.get();
        Path dir = FIXTURES.resolve(fixture);
        JsonNode reference = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("ids", DataTypes.createArrayType(DataTypes.IntegerType), false);
        List<Row> rows = new ArrayList<>();
        List<List<Integer>> expected = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        int maxNew = 0;
        for (JsonNode g : reference.get("generation")) {
            rows.add(RowFactory.create(rows.size(), DatasetJobsTest.ids(g.get("prompt_ids"))));
            prompts.add(g.get("prompt_ids").traverse(new ObjectMapper()).readValueAs(int[].class));
            expected.add(DatasetJobsTest.ids(g.get("new_ids")));
            maxNew = g.get("max_new_tokens").asInt();
        }
        ModelSource model = ModelSource.of(dir);
        Options o = Options.defaults().withMaxNewTokens(maxNew).withIgnoreEos(true).withBatchSize(2);
        List<Row> out = JsteerSpark.generate(spark.createDataFrame(rows, schema).repartition(2), model, Steer.none(), o).orderBy("id").collectAsList();
        for (int i = 0; i < expected.size(); i++) {
            assertNull(out.get(i).getAs("error"));
            assertEquals(expected.get(i), DatasetJobsTest.ints(out.get(i).getList(out.get(i).fieldIndex("continuation_ids"))), fixture + " prompt " + i);
        }

        LoadedModel m = ModelCache.get(model, 0);
        double[] nll = new TextNll(prompts).scores(m.model(), null);
        List<Row> scored = JsteerSpark.score(spark.createDataFrame(rows, schema), model, Steer.none(), o).orderBy("id").collectAsList();
        for (int i = 0; i < nll.length; i++) assertEquals(nll[i], (double) scored.get(i).getAs("nll"), 0, fixture + " prompt " + i);
    }
}
