/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.Main;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.NonFiniteException;
import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NaN and infinity stop the run with the first hook point where they appeared, never pass as logits or tokens. */
class NonFiniteTest {
    @TempDir
    Path tmp;

    @Test
    void nanInAnMlpBiasIsLocatedAtThatBlocksMlpOut() {
        Path dir = Checkpoints.copy("pythia-tiny-parallel", tmp.resolve("m"));
        Checkpoints.poison(dir, "gpt_neox.layers.2.mlp.dense_4h_to_h.bias", 7, Float.NaN);
        Model model = Model.load(dir);
        State s = model.newState();
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> model.forward(s, new int[] {5, 6, 7}, false));
        assertEquals(new HookName(2, HookPoint.MLP_OUT), e.hook());
        assertEquals(0, e.position());
        assertTrue(e.getMessage().contains("first at blocks.2.hook_mlp_out (position 0)"), e.getMessage());
        assertEquals(0, s.length(), "the failed call leaves the state as it was");
    }

    @Test
    void infiniteEmbeddingRowIsLocatedAtTheEmbeddingsAndItsPosition() {
        Path dir = Checkpoints.copy("pythia-tiny-sequential", tmp.resolve("m")); // untied: the row is not also an output row
        int d = 64, token = 9;
        Checkpoints.poison(dir, "gpt_neox.embed_in.weight", (long) token * d + 3, Float.POSITIVE_INFINITY);
        Model model = Model.load(dir);
        State s = model.newState();
        model.forward(s, new int[] {2, 4}, false); // finite: the poisoned row is not read
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> model.forward(s, new int[] {5, token}, false));
        assertEquals(new HookName(0, HookPoint.RESID_PRE), e.hook());
        assertEquals(3, e.position(), "positions count from the start of the sequence");
        assertTrue(e.getMessage().contains("the token embeddings"), e.getMessage());
        assertEquals(2, s.length());
    }

    @Test
    void aTiedOutputRowIsTheUnembedding() {
        Path dir = Checkpoints.copy("gemma-tiny", tmp.resolve("m"));
        Checkpoints.poison(dir, "model.embed_tokens.weight", 9L * 64, Float.NaN);
        Model model = Model.load(dir);
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> model.forward(model.newState(), new int[] {2, 4}, false));
        assertNull(e.hook(), "token 9 is not in the prompt, but its row is also the output row of token 9");
    }

    @Test
    void finalNormIsNamedWhenTheResidualStreamStaysFinite() {
        Path dir = Checkpoints.copy("pythia-tiny-sequential", tmp.resolve("m"));
        Checkpoints.poison(dir, "gpt_neox.final_layer_norm.weight", 0, Float.NaN);
        Model model = Model.load(dir);
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> model.forward(model.newState(), new int[] {1, 2}, true));
        assertNull(e.hook());
        assertTrue(e.getMessage().contains("in the final norm or the unembedding"), e.getMessage());
    }

    @Test
    void aSteeringHookThatOverflowsIsNamedDuringGeneration() {
        Model model = Model.load(io.jsteer.tests.Fixtures.dir("gemma2-tiny"));
        State s = model.newState();
        HookName at = new HookName(1, HookPoint.RESID_MID);
        s.hooks().add(at, (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) if (ctx.position(t) == 4) x[t * ctx.width()] = Float.POSITIVE_INFINITY;
        });
        NonFiniteException e = assertThrows(NonFiniteException.class,
                () -> new Generator(model).generate(s, new int[] {2, 10, 11}, 5, Sampler.greedy(), null, null));
        assertEquals(at, e.hook());
        assertEquals(4, e.position(), "caught on the second generated token's step");
        assertTrue(e.getMessage().contains("after the hooks attached there"), e.getMessage());
    }

    @Test
    void theCommandLineSaysWhereInOneLine() {
        Path dir = Checkpoints.copy("pythia-tiny-parallel", tmp.resolve("m"));
        Checkpoints.poison(dir, "gpt_neox.layers.1.attention.dense.bias", 0, Float.NEGATIVE_INFINITY);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(new String[] {"generate", "-m", dir.toString(), "--ids", "1,2,3", "-n", "4"}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(1, exit);
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().startsWith("jsteer generate: error: the forward pass produced non-finite values (NaN or infinity) first at blocks.1.hook_attn_out"),
                err.toString());
    }
}
