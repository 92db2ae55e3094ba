/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.defaultmodel.Topics;
import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval}, {@code sweep} and {@code demo} on the built-in default model, whose planted
 * direction is known: steering along it must move the love-word score up and the war-word score
 * down, and the commands must agree with each other.
 */
class DefaultModelCommandsTest {
    static Path data, planted;

    @BeforeAll
    static void inputs(@TempDir Path tmp) {
        data = tmp;
        Cli.write(tmp.resolve("prompts.txt"), "The old man walked to the\nIn the morning the village\nShe looked at the\n");
        Cli.write(tmp.resolve("heldout.txt"), "The farmers walked out to the fields in the morning.\nThe children ran down the road to the school.\n");
        Cli.write(tmp.resolve("contrast.jsonl"), """
                {"positive": "The bride and the groom danced at the wedding", "negative": "The soldiers and the captain fought in the battle"}
                {"positive": "She kissed him and gave him her heart", "negative": "He shot the enemy and left him dead"}
                {"positive": "Their love was sweet and full of joy", "negative": "Their war was long and full of fear"}
                """);
        planted = DefaultModel.ensure(DefaultModel.defaultDirectory()).resolve(DefaultModel.PLANTED_DIRECTION);
    }

    private static List<Object> evaluation() {
        return List.of("--eval-prompts", data.resolve("prompts.txt"), "--target-name", "love", "--target-words", String.join(",", Topics.LOVE),
                "--spillover", "war=" + String.join(",", Topics.WAR), "--heldout", data.resolve("heldout.txt"), "--eval-tokens", 8);
    }

    private static Object[] args(List<Object> head, List<Object> tail) {
        List<Object> all = new ArrayList<>(head);
        all.addAll(tail);
        return all.toArray();
    }

    private static List<Object> args2(List<Object> base, Object... more) {
        List<Object> all = new ArrayList<>(base);
        all.addAll(List.of(more));
        return all;
    }

    @Test
    void evalOfThePlantedDirectionRaisesLoveAndLowersWar(@TempDir Path tmp) {
        Path out = tmp.resolve("eval.json");
        Cli.Result r = Cli.run(args(List.of("eval", "--vector", planted, "-c", 2), args2(evaluation(), "-o", out))).ok();
        assertTrue(r.out().contains("on-target:  love:") && r.out().contains("spillover:  war:"), r.out());
        JsonNode e = Fixtures.json(out);
        assertTrue(e.at("/on_target/difference/mean").asDouble() > 0.05, e.toString());
        assertTrue(e.at("/spillover/0/difference/mean").asDouble() < 0, e.toString());
        assertEquals(3, e.at("/on_target/difference/n").asInt());
        assertTrue(e.at("/perplexity/ratio").asDouble() > 1, "a push along u costs some fluency: " + e);
    }

    @Test
    void sweepAgreesWithEvalAtTheSameSettingAndWritesTheReport(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("sweep");
        Cli.Result r = Cli.run(args(List.of("sweep", "--method", "caa", "--contrast", data.resolve("contrast.jsonl"), "--layers", "0,2",
                "--coeffs", "-2,2", "--examples", 1, "-n", 6), args2(evaluation(), "-o", dir))).ok();
        assertTrue(r.out().contains("4 settings"), r.out());
        assertEquals(List.of("effect-heatmap.png", "effect-vs-coefficient.png", "report.html", "sweep.csv", "sweep.json", "trade-off.png"), Cli.strayFiles(dir));
        List<String> csv = Files.readAllLines(dir.resolve("sweep.csv"));
        assertEquals(5, csv.size(), "header and one row per setting");
        JsonNode rows = Fixtures.json(dir.resolve("sweep.json")).get("rows");
        assertEquals(4, rows.size());
        String html = Files.readString(dir.resolve("report.html"));
        assertTrue(html.contains("jsteer sweep: caa") && html.contains("<img"), "report has its title and plots");
        for (String png : List.of("effect-vs-coefficient.png", "trade-off.png", "effect-heatmap.png")) {
            String inline = Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve(png)));
            assertTrue(html.contains("src=\"data:image/png;base64," + inline + "\""), png + " is the chart shown in the report");
        }

        Path out = tmp.resolve("eval.json");
        Cli.run(args(List.of("eval", "--method", "caa:layer=2,coeff=2", "--contrast", data.resolve("contrast.jsonl")), args2(evaluation(), "-o", out))).ok();
        JsonNode e = Fixtures.json(out);
        JsonNode row = null;
        for (JsonNode x : rows) if (x.get("layer").asInt() == 2 && x.get("coefficient").asDouble() == 2) row = x;
        assertTrue(row != null, rows.toString());
        assertEquals(row.get("intervention").asText(), e.get("intervention").asText());
        List<String> rowKeys = new ArrayList<>();
        row.fieldNames().forEachRemaining(rowKeys::add);
        rowKeys.removeAll(List.of("layer", "coefficient", "k"));
        List<String> evalKeys = new ArrayList<>();
        e.fieldNames().forEachRemaining(evalKeys::add);
        assertEquals(rowKeys, evalKeys, "eval -o writes a sweep row's shape");
        List<String> pplKeys = new ArrayList<>(), rowPplKeys = new ArrayList<>();
        e.get("perplexity").fieldNames().forEachRemaining(pplKeys::add);
        row.get("perplexity").fieldNames().forEachRemaining(rowPplKeys::add);
        assertEquals(rowPplKeys, pplKeys);
        // float32 forward passes agree to rounding (the Vector API's lane reductions may be ordered differently once JIT-compiled)
        for (String path : List.of("/on_target/difference/mean", "/perplexity/ratio", "/spillover/0/difference/mean")) {
            assertClose(row.at(path).asDouble(), e.at(path).asDouble(), path);
        }
        assertTrue(e.at("/on_target/difference/mean").asDouble() > 0, "CAA love-minus-war at +2 raises the love score");
    }

    @Test
    void answersFileScoresTheLogitDifferenceOfTargetOverCounter(@TempDir Path tmp) {
        Path answers = Cli.write(tmp.resolve("answers.jsonl"), """
                {"prompt": "The old man walked to the", "target": " wedding", "counter": " battle"}
                {"prompt": "In the morning the", "target": " bride", "counter": " soldiers"}
                """);
        Path out = tmp.resolve("eval.json");
        Cli.run("eval", "--vector", planted, "-c", 1, "--answers", answers, "--target-name", "love-vs-war", "--heldout", data.resolve("heldout.txt"),
                "-o", out).ok();
        JsonNode e = Fixtures.json(out);
        assertEquals("love-vs-war", e.at("/on_target/measure").asText());
        // +u raises the love word and lowers the war word by tau each (scaled down a little by the final LayerNorm)
        double change = e.at("/on_target/difference/mean").asDouble();
        assertTrue(change > 3 && change < 4.2, "logit difference change " + change + ", expected about 2 tau = 4");
    }

    @Test
    void sparseMethodsSweepOverK(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("sweep");
        Cli.run(args(List.of("sweep", "--method", "sparse-mean-diff", "--contrast", data.resolve("contrast.jsonl"), "--layers", "2", "--coeffs", "2",
                "--ks", "8,192", "--examples", 0), args2(evaluation(), "-o", dir))).ok();
        List<String> csv = Files.readAllLines(dir.resolve("sweep.csv"));
        assertEquals(3, csv.size());
        assertTrue(csv.get(1).startsWith("2,2.0,8,") && csv.get(2).startsWith("2,2.0,192,"), csv.toString());
    }

    @Test
    void demoWritesEverythingAndItsSweepArgumentsReproduceItsSweep(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("demo");
        Cli.Result r = Cli.run("demo", "-o", dir).ok();
        for (String part : List.of("== 1.", "Layers: block 0 holds a previous-token head", "== 2.", "cosine with the planted u", "== 3.", "steered x+2.0 (love)", "== 4.", "best within perplexity")) {
            assertTrue(r.out().contains(part), "demo output lacks '" + part + "':\n" + r.out());
        }
        assertEquals(List.of("caa.safetensors", "contrast.jsonl", "effect-heatmap.png", "effect-vs-coefficient.png", "heldout.txt", "prompts.txt", "report.html",
                        "sweep.args", "sweep.csv", "sweep.json", "trade-off.png"),
                Cli.strayFiles(dir));
        double cosine = Double.parseDouble(r.out().replaceAll("(?s).*cosine with the planted u (-?[0-9.]+).*", "$1"));
        assertTrue(cosine > 0.3, "the CAA vector points along the planted direction: cosine " + cosine);

        Path again = tmp.resolve("again");
        Cli.run("sweep", "@" + dir.resolve("sweep.args"), "-o", again).ok();
        List<String> first = Files.readAllLines(dir.resolve("sweep.csv")), second = Files.readAllLines(again.resolve("sweep.csv"));
        assertEquals(first.size(), second.size());
        for (int i = 0; i < first.size(); i++) {
            String[] a = first.get(i).split(","), b = second.get(i).split(",");
            assertEquals(a.length, b.length, "csv line " + i);
            for (int j = 0; j < a.length; j++) {
                if (a[j].matches("-?[0-9.]+(E-?[0-9]+)?")) assertClose(Double.parseDouble(a[j]), Double.parseDouble(b[j]), "csv line " + i + " cell " + j);
                else assertEquals(a[j], b[j], "csv line " + i + " cell " + j);
            }
        }
    }

    private static void assertClose(double expected, double actual, String what) {
        assertEquals(expected, actual, 1e-6 * Math.max(1, Math.abs(expected)), what);
    }
}
