/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.Main;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.sas.Npy;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.eval.TextNll;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per class of defect of issue 15 not covered by its own suite (config domains, NaN, output paths, kills and fuzzing have theirs). */
class ReliabilityClassesTest {
    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
        String line() {
            assertEquals(1, exit, err);
            // progress lines ("vector: 1/2") may precede the error
            List<String> lines = err.lines().filter(l -> !l.matches("[a-z]+: \\d+/\\d+.*")).toList();
            assertEquals(1, lines.size(), err);
            return lines.getFirst();
        }
    }

    static Run jsteer(Object... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(Stream.of(args).map(Object::toString).toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    // 2. non-finite values: jsteer check scans every tensor

    @Test
    void checkReportsEveryTensorAndNamesTheNonFiniteOnes() {
        Path dir = Checkpoints.copy("gemma2-tiny", tmp.resolve("m"));
        Run ok = jsteer("check", "-m", dir);
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("model.layers.3.mlp.down_proj.weight") && ok.out().contains("all finite"), ok.out());
        Checkpoints.poison(dir, "model.layers.2.self_attn.k_proj.weight", 17, Float.NaN);
        Checkpoints.poison(dir, "model.layers.2.self_attn.k_proj.weight", 40, Float.NEGATIVE_INFINITY);
        Run bad = jsteer("check", "-m", dir);
        assertEquals(1, bad.exit());
        assertTrue(bad.out().lines().anyMatch(l -> l.startsWith("model.layers.2.self_attn.k_proj.weight") && l.endsWith("1 NaN, 0 +Inf, 1 -Inf (first at flat index 17)")),
                bad.out());
        assertTrue(bad.err().contains("1 of ") && bad.err().contains("hold NaN or infinite values"), bad.err());
        assertTrue(bad.err().contains("check: "), "progress over the bytes: " + bad.err());
    }

    // 2. vectors: coefficient x vector overflowing float32, and zero vectors, are refused

    @Test
    void overflowingAndZeroVectorsAreRefused() {
        HookName at = new HookName(1, HookPoint.RESID_POST);
        float[] big = new float[64];
        big[3] = 3e37f;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AddVector(new SteeringVector(at, big, "caa", Map.of(), "m"), 20, PositionRule.all()));
        assertTrue(e.getMessage().contains("overflows float32 at index 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AddVector(new SteeringVector(at, new float[64], "caa", Map.of(), "m"), 1, PositionRule.all()));
        assertTrue(e.getMessage().contains("is all zeros"), e.getMessage());

        Path model = io.jsteer.tests.Fixtures.dir("pythia-tiny-parallel");
        float[] v = new float[64];
        v[0] = 1;
        Path file = tmp.resolve("v.safetensors");
        VectorFiles.save(file, new SteeringVector(at, v, "caa", Map.of(), "m"));
        assertTrue(jsteer("generate", "-m", model, "--ids", "1,2", "--vector", file, "-c", "1e39").line().contains("overflows float32"));
        VectorFiles.save(tmp.resolve("zero.safetensors"), new SteeringVector(at, new float[64], "caa", Map.of(), "m"));
        assertTrue(jsteer("inspect", "-m", model, "--ids", "1,2", "--vector", tmp.resolve("zero.safetensors")).line().contains("all zeros"));
        Path same = Checkpoints.write(tmp.resolve("same.jsonl"), "{\"positive\": [1, 2], \"negative\": [1, 2]}\n");
        assertTrue(jsteer("vector", "-m", model, "--method", "caa:layer=1", "--contrast", same, "-o", tmp.resolve("o.safetensors")).line()
                .contains("all-zero vector"));
    }

    // 3. allocation bounded by the file

    @Test
    void aTinyNpyClaimingAHugeShapeIsRefusedBeforeAllocating() throws IOException {
        // a header claiming 536,870,000 floats in front of 16 bytes of data
        byte[] claimed = FuzzTest.npy(new float[4], 536870000);
        Path f = Files.write(tmp.resolve("huge.npy"), claimed);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        WeightsException e = assertThrows(WeightsException.class, () -> Npy.read(f));
        assertTrue(threads.getCurrentThreadAllocatedBytes() - before < (16 << 20), "allocated by the claim, not the file");
        assertTrue(e.getMessage().contains("needs 2147480000 bytes but 16 follow the header"), e.getMessage());
    }

    // 4. a checkpoint changed under a running process

    @Test
    void aCheckpointChangedOnDiskIsRefusedAtTheNextPass() throws IOException {
        Path dir = Checkpoints.copy("pythia-tiny-parallel", tmp.resolve("m"));
        Model model = Model.load(dir);
        model.forward(model.newState(), new int[] {1, 2}, false);
        // growing the file is harmless to the mapping; shrinking it would fault the JVM on the next read
        Files.write(dir.resolve("model.safetensors"), new byte[16], StandardOpenOption.APPEND);
        WeightsException e = assertThrows(WeightsException.class, () -> model.forward(model.newState(), new int[] {1, 2}, false));
        assertTrue(e.getMessage().contains("model.safetensors: changed on disk since it was loaded"), e.getMessage());
    }

    // 6. errors a user can act on

    @Test
    void messagesSayWhatIsWrongWithoutJavaInternals() throws IOException {
        Path dir = Checkpoints.copy("pythia-tiny-parallel", tmp.resolve("m"));
        Files.writeString(dir.resolve("model.safetensors"), "this is a text file, not weights\n");
        String line = jsteer("logits", "-m", dir, "--ids", "1", "-o", tmp.resolve("o.json")).line();
        assertTrue(line.contains("not a safetensors file"), line);

        Path bad = Checkpoints.copy("pythia-tiny-parallel", tmp.resolve("b"));
        Files.writeString(bad.resolve("config.json"), "{\"architectures\": [\"GPTNeoXForCausalLM\"], \"hidden_size\": 64,, }");
        line = jsteer("logits", "-m", bad, "--ids", "1", "-o", tmp.resolve("o.json")).line();
        assertTrue(line.contains("config.json: cannot parse config") && line.contains("(line 1, column"), line);
        assertFalse(line.contains("[Source") || line.contains("Exception") || line.contains("java."), line);

        Path prompts = Checkpoints.write(tmp.resolve("p.jsonl"), "[1, 2]\n{\"prompt\": [3]} {\"prompt\": [4]}\n");
        line = jsteer("apply", "-m", dir.resolveSibling("b"), "--prompts", prompts, "--vector", tmp.resolve("none.safetensors"),
                "-o", tmp.resolve("o.jsonl")).line();
        assertTrue(line.contains("p.jsonl line 2: more than one JSON value on the line"), line);
    }

    @Test
    void idsBeyondTheTokenizerAndTooManyNewTokensAreSaidPlainly() {
        Path model = Checkpoints.copy("pythia-tiny-parallel", tmp.resolve("m"));
        // the tiny tokenizer has fewer tokens than the model's (padded) embedding
        Path tok = Checkpoints.write(tmp.resolve("tokenizer.json"), Checkpoints.tinyTokenizer());
        String line = jsteer("generate", "-m", model, "--tokenizer", tok, "--ids", "1,300", "-n", 2).line();
        assertTrue(line.contains("token id 300 is not in the tokenizer's vocabulary"), line);
        Run r = jsteer("generate", "-m", model, "--ids", "1,2", "-n", 500, "--ignore-eos");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().matches("(?s).*stopped after 12[0-9] new tokens: the context of 128 positions is full.*"), r.err());
    }

    @Test
    void everyPathChecksItsPromptsThroughTheModelNamingThePrompt() {
        Model model = Model.load(io.jsteer.tests.Fixtures.dir("pythia-tiny-parallel"));
        int vocab = model.config().vocabSize(), context = model.config().maxPositions();
        assertEquals("token id " + vocab + " at index 1 of prompt 1 is outside the vocabulary [0, " + vocab + ")",
                assertThrows(IllegalArgumentException.class, () -> ActivationCache.record(model, List.of(new int[] {1}, new int[] {2, vocab}),
                        List.of(new HookName(0, HookPoint.RESID_POST)), Readout.last())).getMessage());
        assertEquals("prompt 0 of " + (context + 1) + " tokens exceeds the model's max_position_embeddings " + context,
                assertThrows(IllegalArgumentException.class, () -> ActivationCache.record(model, List.of(new int[context + 1]),
                        List.of(new HookName(0, HookPoint.RESID_POST)), Readout.last())).getMessage());
        assertEquals("prompt 1 is empty", assertThrows(IllegalArgumentException.class, () -> ActivationCache.record(model,
                List.of(new int[] {1}, new int[0]), List.of(new HookName(0, HookPoint.RESID_POST)), Readout.last())).getMessage());
        Generator generator = new Generator(model);
        assertEquals("the prompt of " + (context + 1) + " tokens exceeds the model's max_position_embeddings " + context,
                assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[context + 1], 2, Sampler.greedy(), null)).getMessage());
        // through the engine: the job's own description first (here an evaluation item)
        assertEquals("measure 'nll', item 1: token id -3 at index 0 of the prompt is outside the vocabulary [0, " + vocab + ")",
                assertThrows(IllegalArgumentException.class, () -> new TextNll(List.of(new int[] {1, 2}, new int[] {-3, 2})).scores(model, null))
                        .getMessage());
        // a batched forward call names the sequence
        var a = model.newState();
        var b = model.newState();
        assertEquals("token id " + vocab + " at index 0 of the tokens of sequence 1 of the batch is outside the vocabulary [0, " + vocab + ")",
                assertThrows(IllegalArgumentException.class, () -> model.forward(List.of(new Model.Step(a, new int[] {1}, false),
                        new Model.Step(b, new int[] {vocab}, false)))).getMessage());
        assertEquals(0, a.length());
    }

    // 7. coefficients that mean the same across methods

    @Test
    void headersGiveTheVectorAndResidualNormsAndNormUnitsScaleTheCoefficient() {
        Path model = io.jsteer.tests.Fixtures.dir("pythia-tiny-parallel");
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i);
        Path file = tmp.resolve("v.safetensors");
        VectorFiles.save(file, new SteeringVector(new HookName(1, HookPoint.RESID_POST), v, "caa", Map.of(), "m"));
        Run raw = jsteer("generate", "-m", model, "--ids", "1,2,3", "-n", 2, "--vector", file, "-c", 1);
        assertEquals(0, raw.exit(), raw.err());
        assertTrue(raw.err().contains("vector |v| = 5.6") && raw.err().contains("at blocks.1.hook_resid_post; residual stream there: mean |x| = ")
                && raw.err().contains("over 3 positions"), raw.err());
        assertFalse(raw.err().contains("warning"), raw.err());
        Run norm = jsteer("generate", "-m", model, "--ids", "1,2,3", "-n", 2, "--vector", file, "-c", 0.5, "--coeff-unit", "norm");
        assertTrue(norm.err().contains("= 0.500 residual norms"), norm.err());
        Run loud = jsteer("generate", "-m", model, "--ids", "1,2,3", "-n", 2, "--vector", file, "-c", 8, "--coeff-unit", "norm");
        assertTrue(loud.err().contains("warning: the added vector is 8.00 times the typical residual norm at blocks.1.hook_resid_post"), loud.err());
        assertTrue(jsteer("generate", "-m", model, "--ids", "1,2", "--vector", file, "--coeff-unit", "furlongs").line().contains("raw or norm"));
    }

    @Test
    void sweepHeadersGiveEachLayersNormsAndNormUnitsScaleTheGrid() throws IOException {
        Path pairs = Checkpoints.write(tmp.resolve("c.jsonl"), "{\"positive\": \"The bride and the groom danced\", \"negative\": \"The soldiers fought the battle\"}\n");
        Path prompts = Checkpoints.write(tmp.resolve("p.txt"), "The old man walked to the\nIn the morning the village\n");
        List<Object> common = List.of("sweep", "--contrast", pairs, "--layers", "0,1", "--coeffs", "0.25,0.5", "--eval-prompts", prompts,
                "--target-words", "love,wedding", "--heldout", prompts, "--eval-tokens", 3, "--examples", 1, "-n", 3);
        Run norm = jsteer(Stream.concat(common.stream(), Stream.of("--method", "caa", "--coeff-unit", "norm", "-o", tmp.resolve("norm"))).toArray());
        assertEquals(0, norm.exit(), norm.err());
        for (int layer : new int[] {0, 1}) {
            assertTrue(norm.err().contains("layer " + layer + ": vector |v| = ") && norm.err().contains("at blocks." + layer + ".hook_resid_post; residual stream there"),
                    norm.err());
        }
        assertTrue(norm.err().contains("= 0.500 residual norms"), "the largest coefficient, in residual norms: " + norm.err());
        assertTrue(Files.readString(tmp.resolve("norm/report.html")).contains("coefficient unit"));
        Run raw = jsteer(Stream.concat(common.stream(), Stream.of("--method", "caa", "-o", tmp.resolve("raw"))).toArray());
        assertEquals(0, raw.exit(), raw.err());
        assertTrue(raw.err().contains("layer 1: vector |v| = ") && !raw.err().contains("= 0.500 residual norms"), raw.err());
        assertTrue(!Files.readString(tmp.resolve("norm/sweep.csv")).equals(Files.readString(tmp.resolve("raw/sweep.csv"))), "norm units change the coefficients");
        String line = jsteer(Stream.concat(common.stream(), Stream.of("--method", "ace", "--coeff-unit", "norm", "-o", tmp.resolve("a"))).toArray()).line();
        assertTrue(line.contains("--coeff-unit norm needs a method that adds one fitted vector scaled by the coefficient") && line.contains("ace is not one"), line);
        assertFalse(Files.exists(tmp.resolve("a")), "refused before any output");
    }
}
