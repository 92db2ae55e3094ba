/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
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

    /** Adds to every row a push that grows with the rows of the call, so a row's change depends on how many tokens follow it. */
    private static Hooks.Handle lengthPush(State state, List<int[]> calls) {
        return state.hooks().add(new HookName(0, HookPoint.RESID_POST), (ctx, x) -> {
            calls.add(new int[] {ctx.startPos(), ctx.tokens(), ctx.promptLength()});
            for (int t = 0; t < ctx.tokens(); t++) x[t * D] += 3f * ctx.tokens();
        });
    }

    @Test
    void aRecomputeRequestRunsTheWholeSequenceForEachToken() {
        int[] prompt = {3, 17, 5, 9};
        int n = 8;
        // the reference: a fresh state with the hook for every prefix
        int[] seq = prompt.clone();
        for (int i = 0; i < n; i++) {
            State s = model.newState();
            lengthPush(s, new ArrayList<>());
            int next = Sampler.argmax(model.forward(s, seq, false), 0, VOCAB);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = next;
        }
        int[] expected = Arrays.copyOfRange(seq, prompt.length, seq.length);

        State state = model.newState();
        List<int[]> calls = new ArrayList<>();
        lengthPush(state, calls);
        Hooks.Handle whole = state.hooks().recomputeEachToken();
        assertTrue(state.hooks().recomputesEachToken());
        assertArrayEquals(expected, new Generator(model).generate(state, prompt, n, Sampler.greedy(), null, null).tokens());
        assertEquals(n, calls.size(), "the prompt, then the whole sequence for each token but the last");
        for (int i = 0; i < n; i++) assertArrayEquals(new int[] {0, prompt.length + i, prompt.length}, calls.get(i), "call " + i);
        whole.close();
        assertFalse(state.hooks().recomputesEachToken());

        // with the KV cache the earlier rows keep their push: another continuation
        State cached = model.newState();
        lengthPush(cached, new ArrayList<>());
        assertNotEquals(Arrays.toString(expected), Arrays.toString(new Generator(model).generate(cached, prompt, n, Sampler.greedy(), null, null).tokens()));

        // batched beside a cached sequence, each as alone
        GenerationRequest.Builder b = GenerationRequest.builder(prompt).maxNewTokens(n);
        Generator g = new Generator(model);
        Generation rerun = g.generation(b.steering(st -> {
            Hooks.Handle push = lengthPush(st, new ArrayList<>());
            Hooks.Handle request = st.hooks().recomputeEachToken();
            return () -> {
                request.close();
                push.close();
            };
        }).build());
        Generation plain = g.generation(GenerationRequest.builder(prompt).maxNewTokens(n).build());
        g.generateAll(List.of(plain, rerun), 2);
        assertArrayEquals(expected, rerun.result().tokens());
        assertArrayEquals(g.generate(prompt, n, Sampler.greedy(), null).tokens(), plain.result().tokens());
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
