/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.examples.embedded;

import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.GenerationRequest;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.nio.file.Path;
import java.util.List;

/**
 * jsteer embedded in a plain Java program: loads the built-in default model, fits a CAA vector on
 * love-versus-war prompt pairs, generates unsteered and steered text, and reads the residual
 * stream while it generates. The part between the {@code README} markers is the README's
 * "Using it from Java" snippet (a test in the jsteer build keeps the two equal).
 *
 * <p>Run with {@code --add-modules jdk.incubator.vector} (see this project's pom.xml). Exits with
 * status 1 when steering did not do what it should, so the jsteer build notices.
 */
public final class EmbeddedExample {
    private EmbeddedExample() {}

    /**
     * Runs the example.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        // README:begin
        Path dir = DefaultModel.ensure();                // the built-in default model: built once, no download
        Model model = Model.load(dir);                   // weights memory-mapped, not copied
        Tokenizer tokenizer = Tokenizers.load(dir.resolve("tokenizer.json"));

        // fit a CAA vector at block 2 from love-versus-war prompt pairs
        HookName block2 = new HookName(2, HookPoint.RESID_POST);
        ContrastSet pairs = new ContrastSet(
                List.of(tokenizer.encode("The bride and the groom danced at the wedding"),
                        tokenizer.encode("Their love was sweet and full of joy")),
                List.of(tokenizer.encode("The soldiers and the captain fought in the battle"),
                        tokenizer.encode("Their war was long and full of fear")));
        AddVector love = new Caa(block2, 2.0).fit(model, pairs);

        // one request, generated without and with the vector (sampled: both runs draw the same random numbers)
        Generator generator = new Generator(model);
        GenerationRequest plain = GenerationRequest.builder(tokenizer.encode("The old man walked to the"))
                .maxNewTokens(24)
                .sampler(new Sampler(0.7, 0, 1.0, 1))   // temperature, top-k (0: off), top-p (1: off), seed
                .build();
        GenerationRequest steered = plain.toBuilder().steering(love::attach).build();
        System.out.println("unsteered: " + tokenizer.decode(generator.generate(plain).tokens()));
        System.out.println("steered:   " + tokenizer.decode(generator.generate(steered).tokens()));

        // read activations: project block 3's input (after the steering) on the vector, token by token
        float[] v = love.vector().direction();
        double[] sum = new double[1];
        State state = model.newState();
        try (Hooks.Handle reader = state.hooks().add(new HookName(3, HookPoint.RESID_PRE), a -> {
            for (int row = 0; row < a.rows(); row++) sum[0] += a.dot(row, v);   // a: rows x width, a.position(row)
        })) {
            generator.generate(state, steered);
        }
        System.out.printf("mean projection on the CAA vector while steered: %.3f%n", sum[0] / state.length());
        // README:end

        double steeredProjection = sum[0] / state.length();
        double plainProjection = meanProjection(model, generator, plain, v);
        System.out.printf("mean projection on the CAA vector unsteered:     %.3f%n", plainProjection);
        check(tokenizer, generator, plain, steered, steeredProjection, plainProjection, love);
    }

    /** The same reading as in the snippet, without steering. */
    private static double meanProjection(Model model, Generator generator, GenerationRequest request, float[] v) {
        double[] sum = new double[1];
        State state = model.newState();
        try (Hooks.Handle reader = state.hooks().add(new HookName(3, HookPoint.RESID_PRE), a -> {
            for (int row = 0; row < a.rows(); row++) sum[0] += a.dot(row, v);
        })) {
            generator.generate(state, request);
        }
        return sum[0] / state.length();
    }

    /**
     * What the run must show: the steered text differs and has more love words than the unsteered
     * one, and the residual stream moved along the vector by the coefficient times its squared norm
     * (the steering adds {@code 2 v} to every row, so each row's projection grows by {@code 2 |v|^2}
     * up to the changes the different tokens make downstream of the prompt).
     */
    private static void check(Tokenizer tokenizer, Generator generator, GenerationRequest plain, GenerationRequest steered,
            double steeredProjection, double plainProjection, AddVector love) {
        String plainText = tokenizer.decode(generator.generate(plain).tokens());
        String steeredText = tokenizer.decode(generator.generate(steered).tokens());
        List<String> loveWords = List.of("love", "wedding", "bride", "groom", "kiss", "heart", "marr", "danc", "joy");
        long plainLove = loveWords.stream().filter(plainText::contains).count();
        long steeredLove = loveWords.stream().filter(steeredText::contains).count();
        double norm2 = love.vector().norm() * love.vector().norm();
        System.out.printf("love words: unsteered %d, steered %d; projection moved by %.3f (2 |v|^2 = %.3f)%n",
                plainLove, steeredLove, steeredProjection - plainProjection, 2 * norm2);
        if (plainText.equals(steeredText)) fail("steering did not change the text");
        if (steeredLove <= plainLove) fail("steering towards love did not bring more love words");
        if (!(steeredProjection - plainProjection > norm2)) fail("the residual stream did not move along the vector");
        System.out.println("embedded example: OK");
    }

    private static void fail(String why) {
        System.err.println("embedded example: FAILED: " + why);
        System.exit(1);
    }
}
