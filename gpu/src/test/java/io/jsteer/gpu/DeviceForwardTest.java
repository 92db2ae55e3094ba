/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hook;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The device forward pass ({@link TornadoBackend#forward}) against the CPU {@link Model} on every
 * fixture checkpoint: logits within 1e-4 of the logit scale, greedy generation, hooks and states.
 * Runs on the TornadoVM device with bailout to Java disabled (see gpu/pom.xml).
 */
class DeviceForwardTest {
    private static final Path FIXTURES = Path.of("../tests/src/test/resources/fixtures");
    private static final double TOLERANCE = 1e-4;
    private static final int[] PROMPT = {3, 17, 42, 5, 99, 7, 11};

    private static TornadoBackend backend;
    /** One device model per fixture, shared by the tests (each compiles its own kernels). */
    private static final Map<String, Model[]> models = new HashMap<>();

    @BeforeAll
    static void create() {
        backend = TestBackends.open();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    static Stream<String> fixtures() throws Exception {
        try (Stream<Path> dirs = Files.list(FIXTURES)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("model.safetensors"))).map(d -> d.getFileName().toString()).sorted().toList().stream();
        }
    }

    /** {cpu, device} models of a fixture. */
    private static Model[] load(String fixture) {
        return models.computeIfAbsent(fixture, f -> new Model[] {Model.load(FIXTURES.resolve(f)), Model.load(FIXTURES.resolve(f), backend)});
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void promptAndDecodeMatchCpu(String fixture) {
        Model[] m = load(fixture);
        State cpu = m[0].newState(), device = m[1].newState();
        close(fixture + " prompt", m[0].forward(cpu, PROMPT, true), m[1].forward(device, PROMPT, true));
        for (int step = 0; step < 4; step++) {
            int[] next = {(step * 37 + 2) % m[0].config().vocabSize()};
            close(fixture + " decode " + step, m[0].forward(cpu, next, false), m[1].forward(device, next, false));
        }
        // a multi-token chunk after the prompt, last logits only
        int[] chunk = {8, 1, 30};
        close(fixture + " chunk", m[0].forward(cpu, chunk, false), m[1].forward(device, chunk, false));
        assertEquals(cpu.length(), device.length());
    }

    /**
     * Greedy generation through the device's cached decoding picks the CPU's argmax at every step;
     * where the CPU's top logits tie within the tolerance (the tiny random models have near-ties)
     * either choice is accepted, and the CPU follows the device's choice.
     */
    @ParameterizedTest
    @MethodSource("fixtures")
    void greedyGenerationMatchesCpu(String fixture) {
        Model[] m = load(fixture);
        int[] generated = new Generator(m[1]).generate(PROMPT, 12, Sampler.greedy(), null).tokens();
        assertEquals(12, generated.length, fixture);
        State cpu = m[0].newState();
        float[] logits = m[0].forward(cpu, PROMPT, false);
        for (int step = 0; step < generated.length; step++) {
            int best = 0;
            double scale = 1;
            for (int i = 0; i < logits.length; i++) {
                if (logits[i] > logits[best]) best = i;
                scale = Math.max(scale, Math.abs(logits[i]));
            }
            int chosen = generated[step];
            assertTrue(chosen == best || logits[best] - logits[chosen] <= TOLERANCE * scale,
                    fixture + " step " + step + ": device chose " + chosen + " (CPU logit " + logits[chosen] + "), CPU argmax " + best + " (" + logits[best] + ")");
            logits = m[0].forward(cpu, new int[] {chosen}, false);
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void hooksSeeAndSteerAsOnCpu(String fixture) {
        Model[] m = load(fixture);
        int d = m[0].config().hiddenSize(), layers = m[0].config().numLayers();
        float[] vector = new float[d];
        for (int i = 0; i < d; i++) vector[i] = (float) Math.sin(0.7 * i) * 0.5f;
        List<String> seenCpu = new ArrayList<>(), seenDevice = new ArrayList<>();
        State cpu = m[0].newState(), device = m[1].newState();
        attach(cpu, layers, vector, seenCpu, !m[0].config().parallelResidual());
        attach(device, layers, vector, seenDevice, !m[0].config().parallelResidual());
        close(fixture + " steered prompt", m[0].forward(cpu, PROMPT, true), m[1].forward(device, PROMPT, true));
        close(fixture + " steered decode", m[0].forward(cpu, new int[] {4}, false), m[1].forward(device, new int[] {4}, false));
        // one call per hook point and forward call, as on the CPU (HookParityTest compares the rows)
        assertEquals(seenCpu, seenDevice);
        // steering changed the logits, so the comparison above was not of unsteered passes
        State plain = m[0].newState();
        float[] unsteered = m[0].forward(plain, PROMPT, false);
        State steered = m[1].newState();
        attach(steered, layers, vector, new ArrayList<>(), false);
        float[] withHook = m[1].forward(steered, PROMPT, false);
        assertTrue(maxDiff(unsteered, withHook) > 1e-3, fixture + ": the steering hook had no effect");
    }

    /** Steering at resid_post of the middle layer; recording (and scaling) hooks at every other point of layer 0. */
    private static void attach(State s, int layers, float[] vector, List<String> seen, boolean residMid) {
        s.hooks().add(new HookName(layers / 2, HookPoint.RESID_POST), (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) for (int i = 0; i < vector.length; i++) x[t * ctx.width() + i] += 4 * vector[i];
        });
        for (HookPoint p : HookPoint.residualStream()) {
            if (p == HookPoint.RESID_MID && !residMid) continue;
            Hook record = (ctx, x) -> {
                seen.add(ctx.name() + "@" + ctx.startPos() + "+" + ctx.tokens() + "/" + ctx.promptLength());
                for (int t = 0; t < ctx.tokens(); t++) x[t * ctx.width() + 1] *= 0.5f;
            };
            s.hooks().add(new HookName(0, p), record);
        }
    }

    @Test
    void freshAndResetStatesMatchCpu() {
        Model[] m = load("gemma2-tiny");
        State device = m[1].newState();
        m[1].forward(device, PROMPT, false);
        device.reset();
        int[] other = {50, 2, 9};
        float[] expected = m[0].forward(m[0].newState(), other, true);
        close("after reset", expected, m[1].forward(device, other, true));
        close("fresh state", expected, m[1].forward(m[1].newState(), other, true));
    }

    @Test
    void interleavedSequencesKeepTheirCaches() {
        Model[] m = load("gemma3-tiny");
        State a = m[1].newState(), b = m[1].newState(), ca = m[0].newState(), cb = m[0].newState();
        m[1].forward(a, PROMPT, false);
        m[0].forward(ca, PROMPT, false);
        m[1].forward(b, new int[] {1, 2}, false);
        m[0].forward(cb, new int[] {1, 2}, false);
        close("sequence a", m[0].forward(ca, new int[] {6}, false), m[1].forward(a, new int[] {6}, false));
        close("sequence b", m[0].forward(cb, new int[] {6}, false), m[1].forward(b, new int[] {6}, false));
    }

    @Test
    void anEvictedSequenceFailsClearly() {
        Model[] m = load("gemma-tiny");
        int slots = Integer.getInteger(DeviceModel.SEQUENCES_PROPERTY, 2);
        State first = m[1].newState();
        m[1].forward(first, PROMPT, false);
        for (int i = 0; i < slots; i++) m[1].forward(m[1].newState(), PROMPT, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m[1].forward(first, new int[] {1}, false));
        assertTrue(e.getMessage().contains("evicted"), e.getMessage());
        first.reset();
        close("evicted then reset", m[0].forward(m[0].newState(), PROMPT, false), m[1].forward(first, PROMPT, false));
    }

    /**
     * The batched {@link Engine} (every multi-prompt command runs on it): more jobs than the
     * device keeps KV caches for, prompts of different lengths, one of them steered by a hook
     * attached when it starts. Each job feeds fixed tokens, so that every step's logits compare.
     */
    @Test
    void batchedEngineMatchesCpu() {
        Model[] m = load("llama3-tiny");
        int[][] prompts = {PROMPT, {9, 8}, {1}, {40, 2, 9, 31, 6}, {12, 13, 14}};
        List<List<float[]>> cpu = runEngine(m[0], prompts), device = runEngine(m[1], prompts);
        assertEquals(Math.min(8, DeviceModel.sequences()), new Engine(m[1], 8).maxSequences(), "the engine's batch on the device");
        for (int j = 0; j < prompts.length; j++) {
            assertEquals(cpu.get(j).size(), device.get(j).size(), "steps of job " + j);
            for (int i = 0; i < cpu.get(j).size(); i++) close("engine job " + j + " step " + i, cpu.get(j).get(i), device.get(j).get(i));
        }
    }

    /** The logits of every step of each job, the jobs run together on an engine of 8 sequences. */
    private static List<List<float[]>> runEngine(Model model, int[][] prompts) {
        List<List<float[]>> logits = new ArrayList<>();
        List<Job> jobs = new ArrayList<>();
        for (int j = 0; j < prompts.length; j++) {
            List<float[]> seen = new ArrayList<>();
            logits.add(seen);
            int[] prompt = prompts[j];
            boolean steered = j == 3;
            jobs.add(new Job() {
                @Override
                public int[] prompt() {
                    return prompt;
                }

                @Override
                public void start(State state) {
                    if (steered) state.hooks().add(new HookName(1, HookPoint.RESID_POST), (ctx, x) -> {
                        for (int i = 0; i < x.length; i++) x[i] += 0.5f * (i % 3 - 1);
                    });
                }

                @Override
                public int next(float[] l) {
                    seen.add(l.clone());
                    return seen.size() > 4 ? END : (seen.size() * 37 + prompt.length) % model.config().vocabSize();
                }
            });
        }
        new Engine(model, 8).run(jobs);
        return logits;
    }

    private static void close(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what);
        double scale = 1;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        int worst = 0;
        for (int i = 0; i < expected.length; i++) if (Math.abs(expected[i] - actual[i]) > Math.abs(expected[worst] - actual[worst])) worst = i;
        double diff = Math.abs(expected[worst] - actual[worst]);
        assertTrue(diff <= TOLERANCE * scale, what + ": max |device - cpu| = " + diff + " at logit " + worst + " over logit scale " + scale);
    }

    private static double maxDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }
}
