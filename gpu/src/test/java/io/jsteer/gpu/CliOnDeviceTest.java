/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.Main;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.defaultmodel.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command of the CLI that runs the model, with {@code --backend tornado} and with
 * {@code --backend cpu}, in this JVM: the files they write agree ({@link SameOutputs}), and the
 * device run really ran on the device (its note names the device: no fallback). Text commands run on the built-in default model
 * (Pythia-shaped, with a tokenizer), {@code --ids} commands on Gemma 2 and Qwen 3 fixtures too.
 */
class CliOnDeviceTest {
    private static final Path FIXTURES = Path.of("../tests/src/test/resources/fixtures");

    static Path data;

    @BeforeAll
    static void inputs(@TempDir Path tmp) throws IOException {
        // the default model is built once into this module's target folder, not the user's cache
        System.setProperty("jsteer.cache", Path.of("target", "jsteer-cache").toAbsolutePath().toString());
        data = tmp;
        Files.writeString(tmp.resolve("prompts.txt"), "The old man walked to the\nShe looked at the\nWhen the war was over the people of the town\n");
        Files.writeString(tmp.resolve("heldout.txt"), "The farmers walked out to the fields in the morning.\nThe children ran down the road to the school.\n");
        Files.writeString(tmp.resolve("contrast.jsonl"), """
                {"positive": "The bride and the groom danced at the wedding", "negative": "The soldiers and the captain fought in the battle"}
                {"positive": "She kissed him and gave him her heart", "negative": "He shot the enemy and left him dead"}
                {"positive": "Their love was sweet and full of joy", "negative": "Their war was long and full of fear"}
                """);
        Files.writeString(tmp.resolve("pair.jsonl"), """
                {"positive": "The bride and the groom danced at the wedding", "negative": "The soldiers and the captain fought in the battle"}
                """);
        Files.writeString(tmp.resolve("contrast-ids.jsonl"), """
                {"positive": [3, 17, 42, 5, 99], "negative": [3, 17, 43, 5, 98]}
                {"positive": [9, 8, 7, 6, 5, 4], "negative": [9, 8, 70, 6, 5, 40]}
                {"positive": [11, 12, 13], "negative": [11, 2, 13]}
                """);
        Files.writeString(tmp.resolve("prompts-ids.jsonl"), "[3, 17, 42, 5, 99, 7, 11]\n[9, 8, 7]\n[40, 2, 9, 31, 6, 1]\n");
        DefaultModel.ensure(DefaultModel.defaultDirectory());
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(List<Object> args) {
        String[] a = args.stream().map(Object::toString).toArray(String[]::new);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(a, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(exit, out.toString(), err.toString());
    }

    /** Runs {@code args} on each backend, writing to {@code -o tmp/<backend>-name}; returns {cpu, device} outputs. */
    private static Path[] onBoth(Path tmp, String name, Object... args) {
        Path[] outs = new Path[2];
        String[] backends = {"cpu", "tornado"};
        for (int i = 0; i < 2; i++) {
            outs[i] = tmp.resolve(backends[i] + "-" + name);
            List<Object> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--backend", backends[i], "-o", outs[i]));
            Result r = run(all);
            assertEquals(0, r.exit(), backends[i] + " " + all + "\nstdout: " + r.out() + "\nstderr: " + r.err());
            if (i == 1) assertTrue(r.err().contains("TornadoVM backend on "), "the device run fell back to the CPU: " + r.err());
        }
        SameOutputs.assertSame(outs[0], outs[1]);
        return outs;
    }

    private static List<Object> evaluation() {
        return List.of("--eval-prompts", data.resolve("prompts.txt"), "--target-name", "love", "--target-words", String.join(",", Topics.LOVE),
                "--spillover", "war=" + String.join(",", Topics.WAR), "--heldout", data.resolve("heldout.txt"), "--eval-tokens", 4);
    }

    @Test
    void logitsAndGenerate(@TempDir Path tmp) {
        for (String model : new String[] {DefaultModel.NAME, FIXTURES.resolve("gemma2-tiny").toString(), FIXTURES.resolve("qwen3-tiny").toString()}) {
            String tag = Path.of(model).getFileName().toString();
            onBoth(tmp, tag + "-logits.json", "logits", "--model", model, "--ids", "3,17,42,5,99,7,11");
            onBoth(tmp, tag + "-generate.json", "generate", "--model", model, "--ids", "3,17,42,5", "-n", 8);
        }
        onBoth(tmp, "generate-sampled.json", "generate", "--prompt", "The old man walked to the", "-n", 8, "-t", 0.8, "--seed", 5);
    }

    @Test
    void lensAndPatch(@TempDir Path tmp) {
        onBoth(tmp, "lens.json", "lens", "-p", "The groom kissed the bride and everyone cheered", "--tokens", " wedding, battle");
        onBoth(tmp, "lens-gemma2.json", "lens", "--model", FIXTURES.resolve("gemma2-tiny"), "--ids", "3,17,42,5,99,7,11", "--token-ids", "5,9");
        // every layer and position of two hook points, one patched run each, batched through the engine
        onBoth(tmp, "patch", "patch", "--clean", "The bride and the groom danced at the", "--corrupt", "The soldier and the captain fought at the",
                "--answers", " wedding, battle", "--hooks", "resid_pre,attn_out");
    }

    /**
     * Commands that read a point inside the block the device cannot pause at (here the attention
     * pattern and the heads' outputs) stop with one line naming it, on the device: neither a
     * silent skip of the hook nor a run on the CPU.
     */
    @Test
    void pointsInsideTheBlockRefusedWithOneLine(@TempDir Path tmp) {
        String[][] cases = {{"attention", "blocks.0.attn.hook_pattern"}, {"dla", "blocks.0.attn.hook_z", "--answer-ids", "5,9"}};
        for (String[] c : cases) {
            Path out = tmp.resolve(c[0]);
            List<Object> args = new ArrayList<>(List.of(c[0], "--model", FIXTURES.resolve("gemma2-tiny"), "--ids", "3,17,42,5,99,7,11"));
            args.addAll(List.of(c).subList(2, c.length));
            args.addAll(List.of("--backend", "tornado", "-o", out));
            Result r = run(args);
            assertEquals(Main.EXIT_FAILURE, r.exit(), c[0] + "\nstdout: " + r.out() + "\nstderr: " + r.err());
            assertTrue(r.err().contains("TornadoVM backend on "), "the device run fell back to the CPU: " + r.err());
            List<String> errors = r.err().lines().filter(l -> l.startsWith("jsteer " + c[0] + ": error: ")).toList();
            assertEquals(List.of("jsteer " + c[0] + ": error: hook at " + c[1] + ": the tornadovm backend runs hooks at the residual-stream points "
                    + "only; use the CPU backend for hook points inside the block"), errors, r.err());
            assertFalse(Files.exists(out.resolve(c[0] + ".json")), "a refused command wrote " + out.resolve(c[0] + ".json"));
        }
    }

    @Test
    void vectorOfEveryVectorMethodThenEvalSweepApplyInspectAndExport(@TempDir Path tmp) throws IOException {
        Path contrast = data.resolve("contrast.jsonl");
        Path[] caa = onBoth(tmp, "caa.safetensors", "vector", "--method", "caa:layer=2", "--contrast", contrast);
        for (String method : new String[] {"actadd:layer=1", "actadd:layer=2,variant=mean", "sparse-mean-diff:layer=1,k=16",
                "whitened-sparse-mean-diff:layer=2,k=8", "caa:layer=1,hook=attn_out,readout=all"}) {
            // ActAdd takes one prompt pair
            Path pairs = method.startsWith("actadd") ? data.resolve("pair.jsonl") : contrast;
            onBoth(tmp, method.replaceAll("[:,=]", "-") + ".safetensors", "vector", "--method", method, "--contrast", pairs);
        }
        // each backend's own vector from here on, so that the fit's differences carry through
        List<Object> eval = new ArrayList<>(List.of("eval", "--vector", caa[0], "-c", 3));
        eval.addAll(evaluation());
        onBothWithOwnVector(tmp, "eval.json", caa, eval);
        // the coefficient in units of the mean residual norm at the hook, measured over the prompt on each backend
        onBothWithOwnVector(tmp, "generate-norm.json", caa, List.of("generate", "--vector", caa[0], "-c", 0.5, "--coeff-unit", "norm",
                "--prompt", "The old man walked to the", "-n", 6));
        onBothWithOwnVector(tmp, "apply.jsonl", caa, List.of("apply", "--vector", caa[0], "-c", 3, "--prompts", data.resolve("prompts.txt"),
                "--with-unsteered", "-n", 6, "-t", 0.9, "--seed", 11));
        onBothWithOwnVector(tmp, "inspect.json", caa, List.of("inspect", "--vector", caa[0], "--prompts", data.resolve("prompts.txt")));
        // export --lora needs MLPs that add something (the default model's are zero) and add it unnormalised (Gemma 2/3's
        // post_feedforward_layernorm is refused): a vector fitted on llama3-tiny, token ids in
        Path llama3 = FIXTURES.resolve("llama3-tiny");
        Path[] l3 = onBoth(tmp, "llama3-caa.safetensors", "vector", "--model", llama3, "--method", "caa:layer=1", "--contrast", data.resolve("contrast-ids.jsonl"));
        onBothWithOwnVector(tmp, "lora", l3, List.of("export", "--model", llama3, "--vector", l3[0], "-c", 4, "--lora", "OUT",
                "--prompts", data.resolve("prompts-ids.jsonl")));
        for (String method : new String[] {"sara:layer=2,coeff=2", "ace:layer=2", "ablation:layer=1"}) {
            onBoth(tmp, method.substring(0, method.indexOf(':')) + ".jsonl", "apply", "--method", method, "--contrast", contrast,
                    "--prompts", data.resolve("prompts.txt"), "-n", 6);
        }
        List<Object> sweep = new ArrayList<>(List.of("sweep", "--method", "caa", "--contrast", contrast, "--layers", "2", "--coeffs", "-2,4",
                "--examples", 1, "-n", 4, "-t", 0.8, "--seed", 3));
        sweep.addAll(evaluation());
        onBoth(tmp, "sweep", sweep.toArray());
    }

    /**
     * As {@link #onBoth}, each backend reading the vector it fitted itself ({@code vectors[0]} in
     * {@code args} stands for it: each run finds its backend's vector copied to one path, which
     * outputs that name the vector file then print alike); an {@code OUT} argument is the output
     * (for options other than {@code -o}).
     */
    private static void onBothWithOwnVector(Path tmp, String name, Path[] vectors, List<Object> args) throws IOException {
        String[] backends = {"cpu", "tornado"};
        Path[] outs = new Path[2];
        Path own = tmp.resolve("own-vector.safetensors");
        for (int i = 0; i < 2; i++) {
            outs[i] = tmp.resolve(backends[i] + "-" + name);
            Files.copy(vectors[i], own, StandardCopyOption.REPLACE_EXISTING);
            List<Object> all = new ArrayList<>();
            boolean outArgument = args.contains("OUT");
            for (Object a : args) all.add(a.equals(vectors[0]) ? own : a.equals("OUT") ? outs[i] : a);
            all.addAll(List.of("--backend", backends[i]));
            if (!outArgument) all.addAll(List.of("-o", outs[i]));
            Result r = run(all);
            assertEquals(0, r.exit(), backends[i] + " " + all + "\nstdout: " + r.out() + "\nstderr: " + r.err());
            if (i == 1) assertTrue(r.err().contains("TornadoVM backend on "), "the device run fell back to the CPU: " + r.err());
        }
        SameOutputs.assertSame(outs[0], outs[1]);
    }

}
