/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

import io.jsteer.transformer.hooks.HookName;
import java.util.HashMap;
import java.util.Map;

/**
 * Rows recorded by {@link ActivationCache#record}: for each hook point and prompt, {@code [rows][width]},
 * the width being the point's ({@link #width(HookName)}: the hidden size on the residual stream,
 * {@code heads * d_head} at {@code attn.hook_z}, {@code d_mlp} at {@code mlp.hook_post}, ...).
 */
public final class Activations {
    private final int prompts;
    private final int width;
    private final Map<HookName, float[][]> rows = new HashMap<>();
    private final Map<HookName, int[][]> positions = new HashMap<>();
    private final Map<HookName, Integer> widths = new HashMap<>();

    Activations(int prompts, int width) {
        this.prompts = prompts;
        this.width = width;
    }

    void put(int prompt, HookName point, int[] pos, float[] values) {
        rows.computeIfAbsent(point, p -> new float[prompts][])[prompt] = values;
        positions.computeIfAbsent(point, p -> new int[prompts][])[prompt] = pos;
        if (pos.length > 0) widths.put(point, values.length / pos.length);
    }

    /** Number of prompts run. */
    public int prompts() {
        return prompts;
    }

    /** Width of every row at the residual-stream points (the model's hidden size). */
    public int width() {
        return width;
    }

    /**
     * @param point a recorded hook point
     * @return the width of its rows (the hidden size on the residual stream)
     */
    public int width(HookName point) {
        rows(point, 0);
        return widths.getOrDefault(point, width);
    }

    /** The rows of one prompt at one point, {@code [rowCount][width]} row-major. */
    public float[] rows(HookName point, int prompt) {
        float[][] byPrompt = rows.get(point);
        if (byPrompt == null) throw new IllegalArgumentException(point + " was not recorded");
        if (prompt < 0 || prompt >= prompts) throw new IllegalArgumentException("prompt " + prompt + " out of range [0, " + prompts + ")");
        return byPrompt[prompt];
    }

    /** Number of rows of one prompt at one point. */
    public int rowCount(HookName point, int prompt) {
        return rows(point, prompt).length / width(point);
    }

    /** The absolute token positions of those rows. */
    public int[] positions(HookName point, int prompt) {
        rows(point, prompt);
        return positions.get(point)[prompt].clone();
    }

    /** All rows of all prompts at one point, stacked in prompt order: {@code [totalRows][width]}. */
    public float[] stacked(HookName point) {
        int total = 0;
        for (int p = 0; p < prompts; p++) total += rows(point, p).length;
        float[] out = new float[total];
        int at = 0;
        for (int p = 0; p < prompts; p++) {
            float[] r = rows(point, p);
            System.arraycopy(r, 0, out, at, r.length);
            at += r.length;
        }
        return out;
    }
}
