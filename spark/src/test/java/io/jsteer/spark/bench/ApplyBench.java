/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark.bench;

import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.spark.JsteerSpark;
import io.jsteer.spark.ModelSource;
import io.jsteer.spark.Options;
import io.jsteer.spark.Steer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of steered {@code apply} ({@link JsteerSpark#generate}) over 2,000 prompts of the
 * built-in default model, 8 new tokens each, with Spark in local mode: {@code local[1]} against
 * {@code local[2]}, and the same prompts in 2 or 200 partitions, whose difference divided by 198
 * is the cost of a task (scheduling, closure, the model lookup, a chunk's engine). Run by
 * {@code spark/bench.sh}; never part of the tests. The checkpoint is mapped in the trial's set-up,
 * so every iteration measures jobs on a warm executor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class ApplyBench {
    static final int PROMPTS = 2000;

    @Param({"local[1]", "local[2]"})
    public String master;

    @Param({"2", "200"})
    public int partitions;

    SparkSession spark;
    Dataset<Row> prompts;
    ModelSource model;
    Steer steer;
    Options options = Options.defaults().withMaxNewTokens(8);

    @Setup(Level.Trial)
    public void start() {
        spark = SparkSession.builder().master(master).appName("jsteer-apply-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        model = ModelSource.defaultModel();
        steer = Steer.vector(Path.of(model.dir()).resolve(DefaultModel.PLANTED_DIRECTION), 4, "all");
        String[] subjects = {"The old man", "She", "The soldiers", "The bride", "We", "A child", "The town", "My friend"};
        String[] verbs = {"walked to the", "said that the", "saw the", "went to the", "thought about the"};
        String[] ends = {"", " old", " quiet", " happy", " long"};
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            rows.add(RowFactory.create(i, subjects[i % subjects.length] + " " + verbs[(i / subjects.length) % verbs.length] + ends[(i / 40) % ends.length]));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("prompt", DataTypes.StringType, false);
        prompts = spark.createDataFrame(rows, schema).repartition(partitions).cache();
        prompts.count();
        JsteerSpark.generate(prompts.limit(4), model, steer, options).collectAsList(); // maps the checkpoint
    }

    @TearDown(Level.Trial)
    public void stop() {
        spark.stop();
    }

    @Benchmark
    public long apply() {
        return JsteerSpark.generate(prompts, model, steer, options).collectAsList().size();
    }
}
