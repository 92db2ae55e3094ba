/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hook;
import io.jsteer.transformer.hooks.HookName;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the hook points cost: a {@code prompt}-token prefill and one decoded token (at positions
 * {@code prompt .. prompt + 63}, the sequence truncated back to the prompt at the end of that
 * span) with {@code hooks} attached to the middle block: {@code none}; {@code residual}, a hook
 * doing nothing at {@code hook_resid_post}; {@code inner}, one at every point inside the block that
 * has a row per token (norm outputs, q/k/v before and after rotary, z, the MLP's pre/post); and
 * {@code pattern}, one at {@code attn.hook_pattern}, which makes that block's attention
 * materialise its scores and pattern. The points are named by string, so {@code none} and
 * {@code residual} also run on a build from before the points inside the block existed: the same
 * benchmark on both builds tells what the machinery costs unused.
 */
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class InnerHookBench {
    /** Positions decoded after the prompt before the sequence is truncated back to it: one KV cache block. */
    static final int SPAN = 64;
    private static final List<String> INNER = List.of("ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
            "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_z", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post");

    @Param("/tmp/jsteer-bench")
    public String dir;

    @Param({"pythia-410m-bf16", "gemma-2-2b-bf16"})
    public String model;

    @Param({"none", "residual", "inner", "pattern"})
    public String hooks;

    @Param("32")
    public int prompt;

    private BenchModel m;
    private int[] tokens, next;
    private State decoding;
    private int invocation;

    @Setup
    public void open() {
        m = new BenchModel(dir, model);
        tokens = m.tokens(prompt, 1);
        next = m.tokens(1 << 12, 2);
    }

    @Setup(Level.Iteration)
    public void prompted() {
        decoding = hooked();
        m.model.forward(decoding, tokens, false);
    }

    /** A fresh state with the {@link #hooks} of the middle block attached, each doing nothing. */
    private State hooked() {
        State s = m.model.newState();
        String block = "blocks." + m.model.config().numLayers() / 2 + ".";
        Hook nothing = (ctx, x) -> {};
        List<String> points = switch (hooks) {
            case "none" -> List.of();
            case "residual" -> List.of("hook_resid_post");
            case "inner" -> INNER;
            case "pattern" -> List.of("attn.hook_pattern");
            default -> throw new IllegalArgumentException("hooks=" + hooks + ": none, residual, inner or pattern");
        };
        for (String p : points) s.hooks().add(HookName.parse(block + p), nothing);
        return s;
    }

    @Benchmark
    public float prefill() {
        return m.model.forward(hooked(), tokens, false)[0];
    }

    @Benchmark
    public float decode() {
        if (decoding.length() == prompt + SPAN) decoding.truncate(prompt);
        return m.model.forward(decoding, new int[] {next[invocation++ & (next.length - 1)]}, false)[0];
    }
}
