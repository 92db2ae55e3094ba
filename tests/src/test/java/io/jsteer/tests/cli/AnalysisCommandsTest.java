/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lens} and {@code patch} end to end: their files, the results known exactly, and their refusals. */
class AnalysisCommandsTest {
    @Test
    void lensLastStageIsTheLogitsCommandsOutput(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.dir("gemma2-tiny");
        Cli.run("logits", "--model", dir, "--ids", "2,17,301,5", "--out", tmp.resolve("logits.json")).ok();
        Cli.Result r = Cli.run("lens", "--model", dir, "--ids", "2,17,301,5", "--token-ids", "7,9", "--top-k", 576, "-o", tmp.resolve("lens.json"),
                "--plot", tmp.resolve("lens.png")).ok();
        assertTrue(r.out().contains("blocks.3.hook_resid_post"), r.out());
        JsonNode logits = Cli.JSON.readTree(tmp.resolve("logits.json").toFile()).get("logits");
        JsonNode lens = Cli.JSON.readTree(tmp.resolve("lens.json").toFile());
        assertTrue(lens.get("readout").asText().contains("soft-cap 3.0"), "says it applies Gemma 2's soft-cap");
        JsonNode stages = lens.get("stages");
        assertEquals(5, stages.size());
        assertEquals("blocks.0.hook_resid_pre", stages.get(0).get("hook").asText());
        JsonNode last = stages.get(4);
        for (int t = 0; t < 4; t++) {
            JsonNode cell = last.get("positions").get(t);
            assertEquals(576, cell.get("top").size());
            for (JsonNode s : cell.get("top")) {
                assertEquals(logits.get(t).get(s.get("id").asInt()).floatValue(), s.get("logit").floatValue(), 0f, "position " + t);
            }
            assertEquals(2, cell.get("chosen").size());
            assertEquals(7, cell.get("chosen").get(0).get("id").asInt());
            assertEquals(t < 3, cell.has("next"));
        }
        assertNotNull(ImageIO.read(tmp.resolve("lens.png").toFile()), "a PNG");
    }

    @Test
    void patchWritesItsFilesAndTheKnownResults(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("patch");
        // one token differs: at layer 0 the stream is the embedding, so patching it there is the clean run, elsewhere nothing
        Cli.Result r = Cli.run("patch", "--clean", "The bride danced with the", "--corrupt", "The soldiers danced with the", "-o", out).ok();
        assertTrue(r.out().contains("clean") && r.out().contains("corrupted"), r.out());
        assertEquals(List.of(), Cli.strayFiles(out, "patch.json", "patch.csv", "patch-resid_pre.png", "patch-attn_out.png", "patch-mlp_out.png", "report.html"));
        JsonNode json = Cli.JSON.readTree(out.resolve("patch.json").toFile());
        JsonNode metric = json.get("metric");
        assertTrue(metric.get("chosen_by").asText().startsWith("default"));
        double clean = metric.get("clean").asDouble(), corrupt = metric.get("corrupt").asDouble();
        assertTrue(clean > corrupt, "A is the clean prompt's top token, B the corrupted one's");
        int T = json.get("clean").get("ids").size();
        assertEquals(T, json.get("corrupt").get("ids").size());
        JsonNode pre = json.get("patched").get("resid_pre");
        assertEquals(4, pre.size());
        for (int t = 0; t < T; t++) assertEquals(t == 1 ? clean : corrupt, pre.get(0).get(t).asDouble(), 0.0, "layer 0 position " + t);
        List<String> csv = Files.readAllLines(out.resolve("patch.csv"));
        assertEquals("hook,layer,position,token,logit_difference,restored", csv.getFirst());
        assertEquals(1 + 3 * 4 * T, csv.size());
        assertTrue(csv.get(2).startsWith("resid_pre,0,1,\" soldiers\",") && csv.get(2).endsWith(",1.0"), csv.get(2));
        String html = Files.readString(out.resolve("report.html"));
        assertEquals(3, html.split("<img ", -1).length - 1, "three heat maps inlined");
        assertNotNull(ImageIO.read(out.resolve("patch-attn_out.png").toFile()));

        // chosen answers, fewer hook points, and the same numbers
        Cli.Result again = Cli.run("patch", "--clean", "The bride danced with the", "--corrupt", "The soldiers danced with the",
                "--answer-ids", metric.get("answer").asInt() + "," + metric.get("other").asInt(), "--hooks", "resid_pre", "--batch-size", 1,
                "-o", tmp.resolve("again")).ok();
        JsonNode same = Cli.JSON.readTree(tmp.resolve("again/patch.json").toFile());
        assertEquals(pre, same.get("patched").get("resid_pre"), "batch size 1 and the default give the same results");
        assertEquals(1, same.get("patched").size());
    }

    /** The default model's block 0 has a previous-token head (see DefaultModel): the pictures must show it. */
    @Test
    void attentionDrawsEveryHeadAndFindsThePreviousTokenHead(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("att");
        Cli.Result r = Cli.run("attention", "-p", "The groom kissed the bride and everyone cheered", "-o", out).ok();
        assertTrue(r.out().contains("4 blocks x 4 heads"), r.out());
        JsonNode json = Cli.JSON.readTree(out.resolve("attention.json").toFile());
        int T = json.get("input_ids").size();
        JsonNode patterns = json.get("patterns");
        assertEquals(4, patterns.size());
        int previousTokenHeads = 0;
        for (JsonNode head : patterns.get(0)) {
            boolean previous = true;
            for (int q = 1; q < T; q++) previous &= head.get(q).get(q - 1).asDouble() > 0.9;
            if (previous) previousTokenHeads++;
        }
        assertEquals(1, previousTokenHeads, "block 0 has one previous-token head");
        for (int l = 0; l < 4; l++) {
            for (int h = 0; h < 4; h++) assertNotNull(ImageIO.read(out.resolve("attention-L" + l + "-H" + h + ".png").toFile()));
        }
        assertEquals(16, Files.readString(out.resolve("report.html")).split("<img ", -1).length - 1);
        assertEquals(18, Cli.strayFiles(out).size(), "16 pictures, the JSON and the page");
        Cli.run("attention", "-p", "The groom kissed", "--layers", "1", "-o", tmp.resolve("one")).ok();
        assertEquals(List.of("attention-L1-H0.png", "attention-L1-H1.png", "attention-L1-H2.png", "attention-L1-H3.png", "attention.json", "report.html"),
                Cli.strayFiles(tmp.resolve("one")));
        assertTrue(Cli.run("attention", "-p", "The groom", "--layers", "4", "-o", tmp.resolve("bad")).err().contains("--layers: block 4 is out of range"));
    }

    @Test
    void dlaTermsAddUpAndPatchDrawsTheHeads(@TempDir Path tmp) throws IOException {
        Cli.Result r = Cli.run("dla", "-p", "The bride and the groom danced at the", "--answers", " wedding, battle", "-o", tmp.resolve("dla")).ok();
        assertTrue(r.out().contains("logit(' wedding') - logit(' battle')"), r.out());
        JsonNode dla = Cli.JSON.readTree(tmp.resolve("dla/dla.json").toFile());
        double sum = dla.get("embed").asDouble() + dla.get("final_norm_bias").asDouble();
        for (int l = 0; l < 4; l++) {
            sum += dla.get("attention").get(l).asDouble() + dla.get("mlp").get(l).asDouble();
            double heads = dla.get("attention_bias").get(l).asDouble();
            for (JsonNode h : dla.get("heads").get(l)) heads += h.asDouble();
            assertEquals(dla.get("attention").get(l).asDouble(), heads, 1e-5, "heads add up to block " + l);
        }
        assertEquals(dla.get("logit_difference").asDouble(), sum, 1e-5);
        assertEquals(List.of(), Cli.strayFiles(tmp.resolve("dla"), "dla.json", "dla-layers.png", "dla-heads.png", "report.html"));

        Path out = tmp.resolve("patch");
        Cli.run("patch", "--clean", "The bride and the groom danced at the", "--corrupt", "The soldier and the captain fought at the",
                "--answers", " wedding, battle", "--hooks", "resid_pre,attn.hook_z", "--heads", "-o", out).ok();
        assertEquals(List.of(), Cli.strayFiles(out, "patch.json", "patch.csv", "patch-resid_pre.png", "patch-attn_z.png", "patch-heads.png",
                "patch-heads.csv", "report.html"));
        JsonNode json = Cli.JSON.readTree(out.resolve("patch.json").toFile());
        assertEquals(4, json.get("patched_heads").size());
        // by design (DefaultModel) the topic is carried by one head, block 1's head 0: it alone restores the clean difference
        double clean = json.get("metric").get("clean").asDouble(), corrupt = json.get("metric").get("corrupt").asDouble();
        for (int l = 0; l < 4; l++) {
            for (int h = 0; h < 4; h++) {
                double want = l == 1 && h == 0 ? clean : corrupt;
                assertEquals(want, json.get("patched_heads").get(l).get(h).asDouble(), 1e-5 * Math.abs(clean - corrupt), "block " + l + " head " + h);
            }
        }
        assertEquals(1 + 16, Files.readAllLines(out.resolve("patch-heads.csv")).size());
    }

    @Test
    void refusalsSayWhatIsWrong(@TempDir Path tmp) {
        Cli.Result r = Cli.run("patch", "--clean", "The bride danced with the", "--corrupt", "The soldiers danced along with the", "-o", tmp.resolve("a"));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("same number of tokens") && r.err().contains("is 5 tokens"), r.err());
        r = Cli.run("patch", "--clean", "The bride danced with the", "--corrupt", "The bride danced with the", "-o", tmp.resolve("b"));
        assertTrue(r.err().contains("same top next token") && r.err().contains("--answers"), r.err());
        r = Cli.run("patch", "--clean", "The bride", "--corrupt", "The groom", "--answers", " wedding day, battle", "-o", tmp.resolve("c"));
        assertTrue(r.err().contains("' wedding day' is 2 tokens"), r.err());
        r = Cli.run("patch", "--clean", "The bride", "--corrupt", "The groom", "--hooks", "resid_mid", "-o", tmp.resolve("d"));
        assertTrue(r.err().contains("parallel residual"), r.err());
        r = Cli.run("patch", "--clean", "The bride", "--corrupt", "The groom", "--hooks", "z", "-o", tmp.resolve("e"));
        assertTrue(r.err().contains("--hooks: unknown hook point 'z'"), r.err());
        r = Cli.run("patch", "--clean", "The bride", "--corrupt", "The groom", "--hooks", "attn.hook_pattern", "-o", tmp.resolve("f"));
        assertTrue(r.err().contains("has no row per layer and position"), r.err());
        r = Cli.run("dla", "-p", "The bride", "--position", 5, "-o", tmp.resolve("g"));
        assertTrue(r.err().contains("--position 5 is outside the prompt of 2 tokens"), r.err());
        r = Cli.run("lens", "-p", "The bride", "--tokens", " wedding day", "-o", tmp.resolve("l.json"));
        assertTrue(r.err().contains("--tokens: ' wedding day' is 2 tokens"), r.err());
        r = Cli.run("lens", "-p", "The bride", "--top-k", 0, "-o", tmp.resolve("l.json"));
        assertTrue(r.err().contains("--top-k must be at least 1"), r.err());
        assertEquals(List.of(), Cli.strayFiles(tmp), "nothing written by a refused command");
    }
}
