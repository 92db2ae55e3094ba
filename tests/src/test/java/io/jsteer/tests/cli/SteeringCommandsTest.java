/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vector}, steered {@code logits} / {@code generate}, {@code apply}, {@code export} and
 * {@code inspect} on pythia-tiny-parallel against the Hugging Face steering reference
 * ({@code steering.json}: CAA and ActAdd vectors added to block 1's output at all positions).
 */
class SteeringCommandsTest {
    static final double TOLERANCE = 1e-4;
    static Path model, caaFile, actaddFile;
    static JsonNode ref;

    @BeforeAll
    static void fitVectors(@TempDir Path tmp) {
        model = Fixtures.dir("pythia-tiny-parallel");
        ref = Fixtures.json(model.resolve("steering.json"));
        JsonNode caa = ref.get("caa");
        StringBuilder pairs = new StringBuilder();
        for (int i = 0; i < caa.get("positive_ids").size(); i++) {
            pairs.append("{\"positive\": ").append(caa.get("positive_ids").get(i)).append(", \"negative\": ").append(caa.get("negative_ids").get(i)).append("}\n");
        }
        caaFile = tmp.resolve("caa.safetensors");
        Cli.Result r = Cli.run("vector", "--model", model, "--method", "caa:layer=1", "--contrast", Cli.write(tmp.resolve("caa.jsonl"), pairs.toString()),
                "-o", caaFile).ok();
        assertTrue(r.out().contains("caa at blocks.1.hook_resid_post"), r.out());

        JsonNode a = ref.get("actadd");
        actaddFile = tmp.resolve("actadd.safetensors");
        Cli.run("vector", "--model", model, "--method", "actadd:layer=1,variant=last",
                "--contrast", Cli.write(tmp.resolve("actadd.jsonl"), "{\"positive\": " + a.get("prompt_plus_ids") + ", \"negative\": " + a.get("prompt_minus_ids") + "}\n"),
                "-o", actaddFile).ok();
    }

    @Test
    void caaVectorMatchesTheReferenceAndRecordsItsOrigin() {
        SteeringVector v = VectorFiles.load(caaFile);
        assertTrue(Cli.relativeError(v.direction(), Fixtures.floats(ref.get("caa").get("vector"))) <= TOLERANCE);
        assertEquals("caa", v.method());
        assertEquals("blocks.1.hook_resid_post", v.hook().toString());
        assertEquals(model.toString(), v.model());
        assertEquals("4", v.parameters().get("pairs"));
    }

    @Test
    void actAddLastTokenVectorMatchesTheReference() {
        float[] scaled = Fixtures.floats(ref.get("steered").get("actadd_last").get("vector"));
        float[] want = new float[scaled.length];
        for (int i = 0; i < want.length; i++) want[i] = scaled[i] / 4;
        assertTrue(Cli.relativeError(VectorFiles.load(actaddFile).direction(), want) <= TOLERANCE);
    }

    @Test
    void steeredLogitsMatchTheReference(@TempDir Path tmp) {
        String ids = Cli.ids(ref.get("eval_input_ids"));
        for (var c : List.of(Map.entry("caa_x1", 1.0), Map.entry("caa_x4", 4.0))) {
            Path out = tmp.resolve(c.getKey() + ".json");
            Cli.run("logits", "--model", model, "--ids", ids, "--vector", caaFile, "--coeff", c.getValue(), "-o", out).ok();
            double err = Cli.relativeError(Fixtures.floats(Fixtures.json(out).get("logits")), Fixtures.floats(ref.get("steered").get(c.getKey()).get("logits")));
            assertTrue(err <= TOLERANCE, c.getKey() + ": " + err);
        }
        Path out = tmp.resolve("actadd.json");
        Cli.run("logits", "--model", model, "--ids", ids, "--vector", actaddFile, "--coeff", 4, "-o", out).ok();
        assertTrue(Cli.relativeError(Fixtures.floats(Fixtures.json(out).get("logits")), Fixtures.floats(ref.get("steered").get("actadd_last").get("logits"))) <= TOLERANCE);
    }

    @Test
    void steeredGenerationMatchesTheReferenceBesideTheUnsteeredOne(@TempDir Path tmp) {
        JsonNode g = ref.get("steered").get("caa_x4").get("generation");
        Path out = tmp.resolve("gen.json");
        Cli.Result r = Cli.run("generate", "--model", model, "--ids", Cli.ids(g.get("prompt_ids")), "-n", 10, "--ignore-eos",
                "--vector", caaFile, "-c", 4, "-o", out).ok();
        JsonNode got = Fixtures.json(out);
        assertArrayEquals(Fixtures.ints(g.get("new_ids")), Fixtures.ints(got.get("steered_ids")));
        assertArrayEquals(Fixtures.ints(ref.get("unsteered").get("generation").get("new_ids")), Fixtures.ints(got.get("unsteered_ids")));
        assertTrue(r.out().contains("unsteered") && r.out().contains("steered: caa blocks.1.hook_resid_post x4.0"), r.out());
    }

    @Test
    void methodSpecFitsOnTheFlyLikeASavedVector(@TempDir Path tmp) throws IOException {
        JsonNode g = ref.get("steered").get("caa_x1").get("generation");
        StringBuilder pairs = new StringBuilder();
        JsonNode caa = ref.get("caa");
        for (int i = 0; i < caa.get("positive_ids").size(); i++) {
            pairs.append("{\"positive\": ").append(caa.get("positive_ids").get(i)).append(", \"negative\": ").append(caa.get("negative_ids").get(i)).append("}\n");
        }
        Path out = tmp.resolve("gen.json");
        Cli.run("generate", "--model", model, "--ids", Cli.ids(g.get("prompt_ids")), "-n", 10, "--ignore-eos",
                "--method", "caa:layer=1,coeff=1", "--contrast", Cli.write(tmp.resolve("c.jsonl"), pairs.toString()), "-o", out).ok();
        assertArrayEquals(Fixtures.ints(g.get("new_ids")), Fixtures.ints(Fixtures.json(out).get("steered_ids")));
    }

    @Test
    void applySteersEveryPromptOfAFile(@TempDir Path tmp) throws IOException {
        JsonNode steered = ref.get("steered");
        JsonNode prompt = steered.get("caa_x4").get("generation").get("prompt_ids");
        Path prompts = Cli.write(tmp.resolve("prompts.jsonl"), prompt + "\n{\"prompt\": " + prompt + "}\n");
        Path out = tmp.resolve("out.jsonl");
        Cli.Result r = Cli.run("apply", "--model", model, "--prompts", prompts, "--vector", caaFile, "-c", 4, "-n", 10, "--ignore-eos",
                "--with-unsteered", "-o", out).ok();
        assertTrue(r.out().contains("2 prompts"), r.out());
        List<String> lines = Files.readAllLines(out);
        assertEquals(2, lines.size());
        for (String line : lines) {
            JsonNode row = Cli.JSON.readTree(line);
            assertArrayEquals(Fixtures.ints(steered.get("caa_x4").get("generation").get("new_ids")), Fixtures.ints(row.get("steered_ids")));
            assertArrayEquals(Fixtures.ints(ref.get("unsteered").get("generation").get("new_ids")), Fixtures.ints(row.get("unsteered_ids")));
        }
        assertEquals(List.of("out.jsonl", "prompts.jsonl"), Cli.strayFiles(tmp));
    }

    @Test
    void exportWritesTheScaledVectorAsALlamaCppControlVector(@TempDir Path tmp) {
        Path gguf = tmp.resolve("caa.gguf");
        Cli.run("export", "--model", model, "--vector", caaFile, "--coeff", 2.5, "--gguf", gguf).ok();
        Map<Integer, float[]> read = GgufControlVector.read(gguf);
        assertEquals(List.of(1), List.copyOf(read.keySet()));
        float[] v = Fixtures.floats(ref.get("caa").get("vector"));
        for (int i = 0; i < v.length; i++) v[i] *= 2.5f;
        assertTrue(Cli.relativeError(read.get(1), v) <= TOLERANCE);
    }

    @Test
    void inspectProjectsEveryBlockOutputOnTheVector(@TempDir Path tmp) {
        JsonNode input = Fixtures.json(model.resolve("reference.json")).get("inputs").get(1);
        Path out = tmp.resolve("inspect.json");
        Cli.Result r = Cli.run("inspect", "--model", model, "--ids", Cli.ids(input.get("input_ids")), "--vector", caaFile, "-o", out).ok();
        assertTrue(r.out().contains("proj last"), r.out());
        float[] v = Fixtures.floats(ref.get("caa").get("vector"));
        double vn = 0;
        for (float x : v) vn += x * x;
        vn = Math.sqrt(vn);
        JsonNode layers = Fixtures.json(out).get("prompts").get(0).get("layers");
        JsonNode blocks = input.get("block_outputs");
        for (int l = 0; l < blocks.size(); l++) {
            JsonNode rows = blocks.get(l);
            double last = 0, mean = 0, norm = 0;
            for (int t = 0; t < rows.size(); t++) {
                double p = 0;
                for (int i = 0; i < v.length; i++) p += rows.get(t).get(i).asDouble() * v[i];
                mean += p / vn / rows.size();
                if (t == rows.size() - 1) {
                    last = p / vn;
                    for (int i = 0; i < v.length; i++) norm += rows.get(t).get(i).asDouble() * rows.get(t).get(i).asDouble();
                }
            }
            JsonNode got = layers.get(l);
            assertEquals(last, got.get("lastProjection").asDouble(), 1e-3 * Math.max(1, Math.abs(last)), "layer " + l);
            assertEquals(mean, got.get("meanProjection").asDouble(), 1e-3 * Math.max(1, Math.abs(mean)), "layer " + l);
            assertEquals(Math.sqrt(norm), got.get("lastNorm").asDouble(), 1e-3 * Math.sqrt(norm), "layer " + l);
        }
    }
    /** {@code vector} with pca and probe: unit vectors, and what they measured printed and kept in the file. */
    @Test
    void pcaAndProbeVectorsReportWhatTheyMeasured(@TempDir Path tmp) {
        JsonNode caa = ref.get("caa");
        StringBuilder pairs = new StringBuilder();
        for (int i = 0; i < caa.get("positive_ids").size(); i++) {
            pairs.append("{\"positive\": ").append(caa.get("positive_ids").get(i)).append(", \"negative\": ").append(caa.get("negative_ids").get(i)).append("}\n");
        }
        Path contrast = Cli.write(tmp.resolve("pairs.jsonl"), pairs.toString());
        Cli.Result pca = Cli.run("vector", "--model", model, "--method", "pca:layer=1,variant=center", "--contrast", contrast, "-o", tmp.resolve("pca.safetensors")).ok();
        SteeringVector p = VectorFiles.load(tmp.resolve("pca.safetensors"));
        assertEquals("pca", p.method());
        assertEquals("pca_center", p.parameters().get("variant"));
        assertEquals(1, p.norm(), 1e-6);
        assertTrue(pca.out().contains("  sign_vote: " + p.parameters().get("sign_vote")), pca.out());
        assertTrue(pca.out().contains("  explained_variance_ratio: "), pca.out());

        Cli.Result probe = Cli.run("vector", "--model", model, "--method", "probe:layer=1,holdout=0.25,l2=0.5", "--contrast", contrast, "-o", tmp.resolve("probe.safetensors")).ok();
        SteeringVector q = VectorFiles.load(tmp.resolve("probe.safetensors"));
        assertEquals(1, q.norm(), 1e-6);
        assertEquals("0.5", q.parameters().get("l2"));
        assertTrue(probe.out().contains("  heldout_accuracy: " + q.parameters().get("heldout_accuracy")), probe.out());
        assertTrue(Cli.run("vector", "--model", model, "--method", "pca:layer=1,readout=all", "--contrast", contrast, "-o", tmp.resolve("x.safetensors"))
                .err().contains("PCA pairs one row per prompt"));
    }
    /** {@code cast} gates the saved CAA vector: a met condition gives HF's CAA-steered logits, an unmet one HF's unsteered logits. */
    @Test
    void castGatesTheBehaviourVector(@TempDir Path tmp) {
        JsonNode caa = ref.get("caa");
        StringBuilder pairs = new StringBuilder();
        for (int i = 0; i < caa.get("positive_ids").size(); i++) {
            pairs.append("{\"positive\": ").append(caa.get("positive_ids").get(i)).append(", \"negative\": ").append(caa.get("negative_ids").get(i)).append("}\n");
        }
        Path contrast = Cli.write(tmp.resolve("pairs.jsonl"), pairs.toString());
        String ids = Cli.ids(ref.get("eval_input_ids"));
        // a similarity is a cosine, at most 1: "larger" than 1.5 always matches, "smaller" than 1.5 never does
        for (var c : List.of(Map.entry("larger", ref.get("steered").get("caa_x4")), Map.entry("smaller", ref.get("unsteered")))) {
            Path out = tmp.resolve(c.getKey() + ".json");
            Cli.run("logits", "--model", model, "--ids", ids, "--method", "cast:layer=0,behavior=" + caaFile + ",coeff=4,threshold=1.5,comparator=" + c.getKey(),
                    "--contrast", contrast, "-o", out).ok();
            double err = Cli.relativeError(Fixtures.floats(Fixtures.json(out).get("logits")), Fixtures.floats(c.getValue().get("logits")));
            assertTrue(err <= TOLERANCE, c.getKey() + ": " + err);
        }
        assertTrue(Cli.run("logits", "--model", model, "--ids", ids, "--method", "cast:layer=0,behavior=" + caaFile + ",threshold=0.5", "--contrast", contrast,
                "-o", tmp.resolve("x.json")).err().contains("give threshold and comparator together"));
    }
}
