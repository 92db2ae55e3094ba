/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.steer.Forward;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.Methods;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Activations;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.sas.Sas;
import io.jsteer.steering.sas.SparseAutoencoder;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every path that uses hooks, on the device and on the CPU, with the same results: the hook calls
 * themselves (one call per hook point per forward call, the same rows, positions and context, see
 * {@link io.jsteer.transformer.hooks}), {@code Model.forwardBlocks}, the CLI's recorder
 * ({@link Forward}), {@link ActivationCache}, and every steering method's {@code fit} on the
 * backend's activations and its intervention attached for a prompt and cached decoding steps (SARA
 * recomputes its factors from the history of every row it has seen; SAS encodes each row).
 * Fixtures: a parallel-residual GPT-NeoX, Gemma 2 (sequential, normed branch outputs) and Llama 3.
 */
class HookParityTest {
    private static final Path FIXTURES = Path.of("../tests/src/test/resources/fixtures");
    /**
     * |device - CPU| over max(1, largest |value|) of the compared array: the device sums in float
     * in its own order where the CPU uses other orders and doubles for norm statistics; measured on
     * PoCL: at most 1.3e-6 on activations and logits over two runs (the test prints the largest).
     */
    private static final double TOLERANCE = 5e-6;
    /** As {@link #TOLERANCE}, for logits steered by interventions each fitted on its own backend: measured at most 1.4e-6 over two runs. */
    private static final double FIT_TOLERANCE = 7e-6;
    private static final int[] PROMPT = {3, 17, 42, 5, 99, 7, 11};
    private static final ContrastSet CONTRAST = new ContrastSet(
            List.of(new int[] {3, 17, 42, 5}, new int[] {9, 8, 7, 6, 5}, new int[] {11, 12, 13}, new int[] {40, 2, 2, 31, 6, 1}),
            List.of(new int[] {3, 17, 43, 5}, new int[] {9, 8, 70, 6, 5}, new int[] {11, 2, 13}, new int[] {40, 2, 9, 31, 6, 1}));

    private static TornadoBackend backend;
    private static final Map<String, Model[]> models = new HashMap<>();
    /** The largest relative difference seen, per tolerance, printed at the end: what the tolerances are set from. */
    private static final Map<String, Double> worst = new TreeMap<>();

    @BeforeAll
    static void create() {
        backend = TestBackends.open();
    }

    @AfterAll
    static void close() {
        System.out.println("HookParityTest: largest |device - cpu| / scale: " + worst);
        backend.close();
    }

    static Stream<String> fixtures() {
        return Stream.of("pythia-tiny-parallel", "gemma2-tiny", "llama3-tiny");
    }

    /** {cpu, device} models of a fixture. */
    private static Model[] load(String fixture) {
        return models.computeIfAbsent(fixture, f -> new Model[] {Model.load(FIXTURES.resolve(f)), Model.load(FIXTURES.resolve(f), backend)});
    }

    private static List<HookName> points(Model m) {
        List<HookName> all = new ArrayList<>();
        for (int l = 0; l < m.config().numLayers(); l++) {
            for (HookPoint p : HookPoint.residualStream()) if (p != HookPoint.RESID_MID || !m.config().parallelResidual()) all.add(new HookName(l, p));
        }
        return all;
    }

    /** One hook call as seen: its context and a copy of its rows. */
    private record Call(String context, float[] rows) {}

    /**
     * Hooks at every point that record each call and change the rows (each row by its position),
     * so that what a hook writes must flow into the rest of the pass as on the CPU.
     */
    private static List<Call> recordEverything(State s, Model m) {
        List<Call> calls = new ArrayList<>();
        for (HookName name : points(m)) {
            s.hooks().add(name, (ctx, x) -> {
                calls.add(new Call(ctx.name() + " startPos=" + ctx.startPos() + " tokens=" + ctx.tokens() + " width=" + ctx.width()
                        + " promptLength=" + ctx.promptLength(), x.clone()));
                for (int t = 0; t < ctx.tokens(); t++) x[t * ctx.width() + (ctx.position(t) % ctx.width())] += 0.25f;
            });
        }
        return calls;
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void everyHookPointIsCalledOncePerForwardCallWithTheCpuRows(String fixture) {
        Model[] m = load(fixture);
        State cpu = m[0].newState(), device = m[1].newState();
        List<Call> onCpu = recordEverything(cpu, m[0]), onDevice = recordEverything(device, m[1]);
        close(fixture + " prompt logits", m[0].forward(cpu, PROMPT, true), m[1].forward(device, PROMPT, true), TOLERANCE);
        close(fixture + " chunk logits", m[0].forward(cpu, new int[] {8, 1, 30}, false), m[1].forward(device, new int[] {8, 1, 30}, false), TOLERANCE);
        close(fixture + " decode logits", m[0].forward(cpu, new int[] {4}, false), m[1].forward(device, new int[] {4}, false), TOLERANCE);
        assertEquals(3 * points(m[0]).size(), onCpu.size(), fixture + ": the CPU's calls");
        assertCalls(fixture, onCpu, onDevice);
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void forwardBlocksStopsAfterItsBlocksAndLeavesTheState(String fixture) {
        Model[] m = load(fixture);
        State cpu = m[0].newState(), device = m[1].newState();
        m[0].forward(cpu, new int[] {5, 6}, false);
        m[1].forward(device, new int[] {5, 6}, false);
        List<Call> onCpu = recordEverything(cpu, m[0]), onDevice = recordEverything(device, m[1]);
        int layers = m[0].config().numLayers() - 1;
        m[0].forwardBlocks(List.of(new Model.Step(cpu, PROMPT, false)), layers);
        m[1].forwardBlocks(List.of(new Model.Step(device, PROMPT, false)), layers);
        assertTrue(onCpu.stream().noneMatch(c -> c.context.startsWith("blocks." + layers + ".")), "CPU ran past its blocks");
        assertCalls(fixture + " forwardBlocks", onCpu, onDevice);
        assertEquals(2, device.length());
        // the state goes on from where it stood
        onCpu.clear();
        onDevice.clear();
        close(fixture + " after forwardBlocks", m[0].forward(cpu, PROMPT, true), m[1].forward(device, PROMPT, true), TOLERANCE);
        assertCalls(fixture + " after forwardBlocks", onCpu, onDevice);
    }

    private static void assertCalls(String what, List<Call> cpu, List<Call> device) {
        assertEquals(cpu.stream().map(Call::context).toList(), device.stream().map(Call::context).toList(), what + ": hook calls");
        for (int i = 0; i < cpu.size(); i++) close(what + " " + cpu.get(i).context, cpu.get(i).rows, device.get(i).rows, TOLERANCE);
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void recordersSeeTheCpuActivations(String fixture) {
        Model[] m = load(fixture);
        List<int[]> prompts = List.of(PROMPT, new int[] {9, 8, 7}, new int[] {1});
        List<Forward.Result> cpu = Forward.runAll(m[0], prompts, null), device = Forward.runAll(m[1], prompts, null);
        for (int p = 0; p < prompts.size(); p++) {
            close(fixture + " Forward logits " + p, cpu.get(p).logits(), device.get(p).logits(), TOLERANCE);
            for (int l = 0; l < cpu.get(p).blocks().length; l++) {
                close(fixture + " Forward resid_post " + l + " of prompt " + p, cpu.get(p).blocks()[l], device.get(p).blocks()[l], TOLERANCE);
            }
        }
        List<HookName> points = points(m[0]).subList(0, points(m[0]).size() - 3);
        for (Readout readout : List.of(Readout.all(), Readout.last(), Readout.at(0))) {
            Activations a = ActivationCache.record(m[0], prompts, points, readout), b = ActivationCache.record(m[1], prompts, points, readout);
            for (HookName point : points) {
                for (int p = 0; p < prompts.size(); p++) {
                    assertArrayEquals(a.positions(point, p), b.positions(point, p), fixture + " " + point);
                    close(fixture + " ActivationCache " + point + " prompt " + p, a.rows(point, p), b.rows(point, p), TOLERANCE);
                }
            }
        }
    }

    static Stream<Arguments> methods() {
        List<String> specs = List.of("caa:layer=1,coeff=4", "actadd:layer=1,coeff=4", "actadd:layer=0,coeff=2,variant=mean",
                "actadd:layer=1,coeff=2,variant=positional", "sparse-mean-diff:layer=1,coeff=4,k=8",
                "whitened-sparse-mean-diff:layer=1,coeff=2,k=8", "sara:layer=1,coeff=0.5", "ace:layer=1,coeff=1",
                "ablation:layer=1", "ablation:layer=1,scope=at-hook", "caa:layer=1,hook=attn_out,coeff=4", "caa:layer=1,hook=mlp_out,coeff=4",
                "caa:layer=1,coeff=4,positions=prompt", "sas");
        return fixtures().flatMap(f -> specs.stream().map(s -> Arguments.of(f, s)));
    }

    /**
     * Fitted on each backend's own activations and attached there: the steered prompt's logits and
     * three cached decoding steps (SARA's history grows with each) agree, and differ from the
     * unsteered model's (so the comparison is of steered passes).
     */
    @ParameterizedTest
    @MethodSource("methods")
    void steeringMethodsFitAndSteerAsOnCpu(String fixture, String spec) {
        Model[] m = load(fixture);
        float[][] cpu = steered(m[0], fit(m[0], spec)), device = steered(m[1], fit(m[1], spec));
        float[][] plain = steered(m[0], null);
        double effect = 0;
        for (int i = 0; i < cpu.length; i++) {
            close(fixture + " " + spec + " step " + i, cpu[i], device[i], FIT_TOLERANCE);
            effect = Math.max(effect, maxDiff(plain[i], cpu[i]));
        }
        assertTrue(effect > 1e-2, fixture + " " + spec + ": steering had no effect (" + effect + ")");
    }

    private static Intervention fit(Model model, String spec) {
        SteeringMethod method = spec.equals("sas")
                ? new Sas(randomSae(model.config().hiddenSize()), new HookName(1, HookPoint.RESID_POST), 4, new Sas.Options(0, true, 16, false),
                        Readout.last(), PositionRule.all())
                : Methods.create(MethodSpec.parse(spec), model.config());
        // ActAdd takes one prompt pair
        return method.fit(model, spec.startsWith("actadd") ? new ContrastSet(CONTRAST.positive().subList(0, 1), CONTRAST.negative().subList(0, 1)) : CONTRAST);
    }

    /** Logits of the prompt (every position), then of three cached single-token steps. */
    private static float[][] steered(Model model, Intervention steering) {
        State s = model.newState();
        try (Hooks.Handle h = steering == null ? null : steering.attach(s)) {
            float[][] out = new float[4][];
            out[0] = model.forward(s, PROMPT, true);
            for (int i = 1; i < out.length; i++) out[i] = model.forward(s, new int[] {(i * 29) % model.config().vocabSize()}, false);
            return out;
        }
    }

    /** An untrained ReLU SAE (fixed seed): random encoder columns of norm about 1, decoder their transpose. */
    private static SparseAutoencoder randomSae(int d) {
        int features = 2 * d;
        Random rnd = new Random(17);
        float[] enc = new float[d * features], dec = new float[features * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < features; j++) {
                float w = (float) (rnd.nextGaussian() / Math.sqrt(d));
                enc[i * features + j] = w;
                dec[j * d + i] = w;
            }
        }
        return new SparseAutoencoder("random", SparseAutoencoder.Activation.RELU, d, features, enc, new float[features], dec, new float[d], null,
                false, "blocks.1.hook_resid_post");
    }

    private static void close(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what);
        double scale = 1;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        double diff = maxDiff(expected, actual);
        worst.merge(tolerance == TOLERANCE ? "passes and recorders" : "fitted steering", diff / scale, Math::max);
        assertTrue(diff <= tolerance * scale, what + ": max |device - cpu| = " + diff + " over scale " + scale);
    }

    private static double maxDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }
}
