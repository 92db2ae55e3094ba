/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.lora;

import io.jsteer.steering.activations.ActivationCache;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.blocks.Activations;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.ModelConfig;
import java.util.List;

/**
 * The inputs of a block's down projection ({@code dense_4h_to_h} / {@code down_proj}),
 * {@code h = act(gate(n)) * up(n)} (gated, Gemma) or {@code act(up(n) + b_up)} (GPT-NeoX), with
 * {@code n = mlpNorm(x)} and {@code x} the MLP's input: {@code resid_mid} in a sequential block,
 * {@code resid_pre} in a parallel one. No hook exposes {@code h}, so it is recomputed here from
 * the recorded MLP input and the layer's weights.
 */
public final class MlpInputs {
    private MlpInputs() {}

    /** The hook point holding the MLP's input in block {@code layer}. */
    public static HookName mlpInputPoint(ModelConfig config, int layer) {
        return new HookName(layer, config.parallelResidual() ? HookPoint.RESID_PRE : HookPoint.RESID_MID);
    }

    /** {@code h} for the rows {@code readout} selects of every prompt, stacked: {@code [rows][intermediate]}. */
    public static float[] of(Model model, int layer, List<int[]> prompts, Readout readout) {
        HookName point = mlpInputPoint(model.config(), layer);
        float[] x = ActivationCache.record(model, prompts, List.of(point), readout).stacked(point);
        return fromMlpInput(model, layer, x);
    }

    /** {@code h} for MLP input rows {@code x} ({@code [rows][hidden]}). */
    public static float[] fromMlpInput(Model model, int layer, float[] x) {
        ModelConfig c = model.config();
        int d = c.hiddenSize(), ff = c.intermediateSize(), rows = x.length / d;
        LayerWeights w = model.weights().layers()[layer];
        float[] n = x.clone();
        w.mlpNorm().apply(n, rows);
        float[] up = new float[rows * ff];
        model.backend().matmul(w.up(), n, up, rows);
        if (w.upBias() != null) for (int r = 0; r < rows; r++) for (int i = 0; i < ff; i++) up[r * ff + i] += w.upBias()[i];
        if (w.gate() == null) {
            Activations.apply(c.activation(), up, up.length);
            return up;
        }
        float[] gate = new float[rows * ff];
        model.backend().matmul(w.gate(), n, gate, rows);
        Activations.apply(c.activation(), gate, gate.length);
        for (int i = 0; i < up.length; i++) up[i] *= gate[i];
        return up;
    }
}
