/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.caa;

import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.ContrastMoments;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.MomentsMethod;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.TopK;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.weights.ModelConfig;
import java.util.Map;

/**
 * Contrastive Activation Addition (Rimsky, Gabrieli, Schulz, Tong, Hubinger, Turner 2023,
 * "Steering Llama 2 via Contrastive Activation Addition", arXiv:2312.06681; published under the
 * name Panickssery et al.).
 *
 * <pre>
 *   v = (1/N) sum_i h_L(p_i+)[r] - (1/N) sum_i h_L(p_i-)[r]
 *   steering: h_L(x)[t] += c * v   at every selected position t
 * </pre>
 * where {@code h_L(.)[r]} is the activation at the hook point at readout position {@code r} (the
 * answer token, by default the last token), each prompt run alone without padding, and the
 * {@code N} positive and negative prompts form pairs (the paper's A/B answers to one question).
 * Means are accumulated in double precision.
 *
 * <p>The paper's own setting ({@link #original}, {@code caa:preset=original}): its A/B prompts end
 * with the answer in parentheses, {@code "... [/INST] (A)"}, and it reads token {@code -2} (the
 * letter; {@code readout=-2}); it steers from the last token of the instruction ({@code [/INST]})
 * onward ({@code position >= instruction end}, generated tokens included). Without the chat
 * template's tokens the instruction end is given as a prompt token index, by default {@code -1}
 * (prompts that end with the instruction, as in the paper's open-ended generation); an A/B prompt
 * ending {@code "[/INST] ("} has it at {@code -2}. The default here reads the last token and
 * steers every position.
 */
public final class Caa implements MomentsMethod {
    private final HookName hook;
    private final double coefficient;
    private final Readout readout;
    private final PositionRule positions;

    /** Reads the last token and adds {@code coefficient * v} at all positions, as the paper does. */
    public Caa(HookName hook, double coefficient) {
        this(hook, coefficient, Readout.last(), PositionRule.all());
    }

    /** Reads {@code hook} at the rows {@code readout} selects and adds {@code coefficient * v} at {@code positions}. */
    public Caa(HookName hook, double coefficient, Readout readout, PositionRule positions) {
        if (hook == null || readout == null || positions == null) throw new IllegalArgumentException("CAA needs a hook point, a readout and a position rule");
        this.hook = hook;
        this.coefficient = coefficient;
        this.readout = readout;
        this.positions = positions;
    }

    /**
     * The paper's setting: read token {@code -2} (the answer letter of {@code "(A)"}) and steer from
     * prompt token {@code instructionEnd} (negative: from the end) onward.
     */
    public static Caa original(HookName hook, double coefficient, int instructionEnd) {
        return new Caa(hook, coefficient, Readout.at(-2), PositionRule.fromPromptToken(instructionEnd));
    }

    @Override
    public String name() {
        return "caa";
    }

    @Override
    public HookName hook() {
        return hook;
    }

    @Override
    public Readout readout() {
        return readout;
    }

    @Override
    public SteeringVector fitVector(Model model, ContrastSet data) {
        data.requirePaired();
        return MomentsMethod.super.fitVector(model, data);
    }

    @Override
    public SteeringVector fitVector(ContrastMoments moments, int prompts, ModelConfig config) {
        return new SteeringVector(hook, TopK.toFloat(moments.meanDifference()), name(),
                Map.of("readout", readout.describe(), "pairs", Integer.toString(prompts)), SteeringVector.modelId(config));
    }

    @Override
    public AddVector fit(Model model, ContrastSet data) {
        return new AddVector(fitVector(model, data), coefficient, positions);
    }
}
