/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cached decode loop against full recomputation of every prefix, on a small random GPT-NeoX. */
class GeneratorTest {
    static final int VOCAB = 40, D = 16, LAYERS = 2, CONTEXT = 24;
    static Model model;

    @BeforeAll
    static void writeModel(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "vocab_size": %d, "hidden_size": %d,
                 "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": 2, "rotary_pct": 0.5,
                 "max_position_embeddings": %d, "layer_norm_eps": 1e-5, "hidden_act": "gelu", "use_parallel_residual": true,
                 "tie_word_embeddings": false}
                """.formatted(VOCAB, D, 4 * D, LAYERS, CONTEXT));
        SplittableRandom r = new SplittableRandom(3);
        SafeTensorsWriter w = new SafeTensorsWriter();
        add(w, r, "gpt_neox.embed_in.weight", 1, VOCAB, D);
        add(w, r, "embed_out.weight", 0.5, VOCAB, D);
        ones(w, "gpt_neox.final_layer_norm", D);
        for (int l = 0; l < LAYERS; l++) {
            String p = "gpt_neox.layers." + l + ".";
            ones(w, p + "input_layernorm", D);
            ones(w, p + "post_attention_layernorm", D);
            add(w, r, p + "attention.query_key_value.weight", 0.5, 3 * D, D);
            add(w, r, p + "attention.query_key_value.bias", 0.1, 3 * D);
            add(w, r, p + "attention.dense.weight", 0.3, D, D);
            add(w, r, p + "attention.dense.bias", 0.1, D);
            add(w, r, p + "mlp.dense_h_to_4h.weight", 0.3, 4 * D, D);
            add(w, r, p + "mlp.dense_h_to_4h.bias", 0.1, 4 * D);
            add(w, r, p + "mlp.dense_4h_to_h.weight", 0.3, D, 4 * D);
            add(w, r, p + "mlp.dense_4h_to_h.bias", 0.1, D);
        }
        w.write(dir.resolve("model.safetensors"));
        model = Model.load(dir);
    }

    private static void add(SafeTensorsWriter w, SplittableRandom r, String name, double scale, long... shape) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * r.nextGaussian());
        w.add(name, v, DType.F32, shape);
    }

    private static void ones(SafeTensorsWriter w, String prefix, int n) {
        float[] one = new float[n];
        Arrays.fill(one, 1);
        w.add(prefix + ".weight", one, DType.F32, n);
        w.add(prefix + ".bias", new float[n], DType.F32, n);
    }

    /** Sampling by recomputing the whole sequence without a cache at every step. */
    private static int[] uncached(int[] prompt, int n, Sampler sampler) {
        int[] seq = prompt.clone();
        for (int i = 0; i < n; i++) {
            int next = sampler.next(model.forward(model.newState(), seq, false));
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = next;
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    @Test
    void cachedDecodingMatchesRecomputationGreedyAndSampled() {
        int[] prompt = {3, 17, 5, 9};
        Generator g = new Generator(model);
        Generator.Result greedy = g.generate(prompt, 12, Sampler.greedy(), null);
        assertEquals(Generator.Stop.MAX_TOKENS, greedy.stop());
        assertArrayEquals(uncached(prompt, 12, Sampler.greedy()), greedy.tokens());

        Sampler s = new Sampler(1.5, 10, 0.9, 11);
        assertArrayEquals(uncached(prompt, 12, s.copy()), g.generate(prompt, 12, s, null).tokens());
    }

    @Test
    void stopsAtAStopTokenWithoutEmittingIt() {
        int[] prompt = {1, 2};
        int[] free = new Generator(model).generate(prompt, 10, Sampler.greedy(), null).tokens();
        int stop = free[4];
        int firstAt = 0;
        while (free[firstAt] != stop) firstAt++;
        Generator.Result r = new Generator(model).generate(prompt, 10, Sampler.greedy(), new int[] {stop});
        assertEquals(Generator.Stop.STOP_TOKEN, r.stop());
        assertArrayEquals(Arrays.copyOf(free, firstAt), r.tokens());
    }

    @Test
    void streamsTokensAndStopsWhenTheListenerSaysSo() {
        List<Integer> heard = new ArrayList<>();
        Generator.Result r = new Generator(model).generate(model.newState(), new int[] {4}, 10, Sampler.greedy(), null, id -> {
            heard.add(id);
            return heard.size() < 3;
        });
        assertEquals(Generator.Stop.LISTENER, r.stop());
        assertEquals(3, r.tokens().length);
        assertEquals(heard, Arrays.stream(r.tokens()).boxed().toList());
    }

    @Test
    void stopsWhenTheContextIsFull() {
        Generator.Result r = new Generator(model).generate(new int[] {1, 2, 3, 4}, 100, Sampler.greedy(), null);
        assertEquals(Generator.Stop.CONTEXT_FULL, r.stop());
        assertEquals(CONTEXT - 4 + 1, r.tokens().length, "the token chosen at the last position is still emitted");
    }

    @Test
    void hooksOnTheStateSteerGeneration() {
        int[] prompt = {3, 17, 5, 9};
        State steered = model.newState();
        float[] push = new float[D];
        push[0] = 50;
        steered.hooks().add(new HookName(0, HookPoint.RESID_POST), (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) for (int i = 0; i < D; i++) x[t * D + i] += push[i];
        });
        int[] expected = new int[8];
        State ref = model.newState();
        ref.hooks().add(new HookName(0, HookPoint.RESID_POST), (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) for (int i = 0; i < D; i++) x[t * D + i] += push[i];
        });
        float[] logits = model.forward(ref, prompt, false);
        for (int i = 0; i < 8; i++) {
            expected[i] = Sampler.argmax(logits, 0, VOCAB);
            logits = model.forward(ref, new int[] {expected[i]}, false);
        }
        assertArrayEquals(expected, new Generator(model).generate(steered, prompt, 8, Sampler.greedy(), null, null).tokens());
        assertNotEquals(Arrays.toString(expected), Arrays.toString(new Generator(model).generate(prompt, 8, Sampler.greedy(), null).tokens()),
                "the push should change the greedy continuation");
    }

    @Test
    void rejectsBadArguments() {
        Generator g = new Generator(model);
        assertThrows(IllegalArgumentException.class, () -> g.generate(new int[0], 3, Sampler.greedy(), null));
        assertThrows(IllegalArgumentException.class, () -> g.generate(new int[] {1}, -1, Sampler.greedy(), null));
        assertThrows(IllegalArgumentException.class, () -> g.generate(new int[CONTEXT + 1], 1, Sampler.greedy(), null));
        State used = model.newState();
        model.forward(used, new int[] {1}, false);
        assertThrows(IllegalArgumentException.class, () -> g.generate(used, new int[] {2}, 1, Sampler.greedy(), null, null));
    }
}
