/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.analysis;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.ArrayList;
import java.util.List;

/**
 * Every head's attention pattern over a prompt: what each query position attends to, read at
 * {@code blocks.L.attn.hook_pattern} (the softmax of the scaled, soft-capped where the family caps
 * them, and masked scores; TransformerLens' {@code cache["pattern", L]}).
 *
 * <pre>{@code
 * float[][][][] p = new AttentionPatterns(model).run(tokens);   // [layer][head][query][key]
 * System.out.println("block 0, head 1: query 5 looks at key 4 with weight " + p[0][1][5][4]);
 * }</pre>
 */
public final class AttentionPatterns {
    private final Model model;

    /**
     * Patterns of {@code model}.
     *
     * @param model the model
     */
    public AttentionPatterns(Model model) {
        if (model == null) throw new IllegalArgumentException("attention patterns need a model");
        this.model = model;
    }

    /**
     * Runs {@code tokens} through every block once, reading every head's pattern.
     *
     * @param tokens the prompt, at least one token
     * @return {@code [layer][head][query][key]}: row {@code q} sums to 1 over keys {@code 0..q}
     *         (within the sliding window of a local layer) and is 0 beyond
     */
    public float[][][][] run(int[] tokens) {
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("attention patterns need a prompt of at least one token");
        int L = model.config().numLayers(), H = model.config().numHeads(), T = tokens.length;
        List<HookName> points = new ArrayList<>(L);
        for (int l = 0; l < L; l++) points.add(new HookName(l, HookPoint.PATTERN));
        float[][] flat = Streams.record(model, tokens, points);
        float[][][][] out = new float[L][H][T][T];
        for (int l = 0; l < L; l++) {
            for (int h = 0; h < H; h++) {
                for (int q = 0; q < T; q++) System.arraycopy(flat[l], (h * T + q) * T, out[l][h][q], 0, T);
            }
        }
        return out;
    }
}
