/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.ModelConfig;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fitted, unscaled steering direction: where it is added ({@code hook}), its values, and how it
 * was made. The coefficient it is added with belongs to the intervention ({@link AddVector}), so
 * one fitted vector serves a whole sweep of strengths.
 *
 * @param hook       the hook point the direction lives at, e.g. {@code blocks.6.hook_resid_post}
 * @param direction  {@code [hidden]} values, all finite
 * @param method     the method's short name, e.g. {@code caa}
 * @param parameters the fitting parameters as strings (readout, k, shrinkage, ...), sorted by key
 * @param model      what the vector was fitted on (see {@link #modelId(ModelConfig)} or a checkpoint name)
 */
public record SteeringVector(HookName hook, float[] direction, String method, Map<String, String> parameters, String model) {
    public SteeringVector {
        if (hook == null) throw new IllegalArgumentException("steering vector has no hook point");
        if (!hook.point().residual()) throw new IllegalArgumentException(RESIDUAL_ONLY.formatted(hook));
        if (direction == null || direction.length == 0) throw new IllegalArgumentException("steering vector for " + hook + " has no values");
        if (method == null || method.isBlank()) throw new IllegalArgumentException("steering vector for " + hook + " names no method");
        if (model == null || model.isBlank()) throw new IllegalArgumentException("steering vector for " + hook + " names no model");
        requireFinite(direction, "steering vector for " + hook);
        direction = direction.clone();
        parameters = parameters == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(parameters));
    }

    /** Why a vector cannot be placed at a point inside the block; {@code %s} is the point. */
    static final String RESIDUAL_ONLY = "%s is inside the block: a steering vector acts on the residual stream (resid_pre, attn_out, resid_mid, mlp_out, resid_post)";

    /** A copy of the values (the record keeps its own). */
    @Override
    public float[] direction() {
        return direction.clone();
    }

    /** Number of values. */
    public int width() {
        return direction.length;
    }

    /** Euclidean norm, in double precision. */
    public double norm() {
        double s = 0;
        for (float v : direction) s += (double) v * v;
        return Math.sqrt(s);
    }

    /** Returns this vector; fails when it is all zeros, so there is no direction to steer along or project on. */
    public SteeringVector requireDirection() {
        if (!(norm() > 0)) {
            throw new IllegalArgumentException("steering vector for " + hook + " (" + method + ") is all zeros: there is no direction to steer along"
                    + " (were the positive and negative prompts the same?)");
        }
        return this;
    }

    /** The same vector labelled with another model name (e.g. the checkpoint it came from). */
    public SteeringVector withModel(String name) {
        return new SteeringVector(hook, direction, method, parameters, name);
    }

    /**
     * Fails unless this vector fits {@code config}: same width as the hidden size, a layer the
     * model has, and a hook point its blocks have.
     */
    public void requireCompatible(ModelConfig config) {
        if (direction.length != config.hiddenSize()) {
            throw new IllegalArgumentException("steering vector for " + hook + " has " + direction.length
                    + " values, the model's hidden size is " + config.hiddenSize());
        }
        if (hook.layer() >= config.numLayers()) {
            throw new IllegalArgumentException("steering vector layer " + hook.layer() + " is out of range: the model has layers 0.." + (config.numLayers() - 1));
        }
        if (hook.point() == HookPoint.RESID_MID && config.parallelResidual()) {
            throw new IllegalArgumentException(hook + " does not exist: this model's blocks use a parallel residual");
        }
    }

    /** A short description of the checkpoint shape, used when no checkpoint name is known. */
    public static String modelId(ModelConfig config) {
        return config.architecture().hfName() + " hidden=" + config.hiddenSize() + " layers=" + config.numLayers() + " vocab=" + config.vocabSize();
    }

    /** Fails naming {@code what} and the first index holding NaN or an infinity. */
    static void requireFinite(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) throw new IllegalArgumentException(what + " has a non-finite value " + values[i] + " at index " + i);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SteeringVector v && hook.equals(v.hook) && Arrays.equals(direction, v.direction)
                && method.equals(v.method) && parameters.equals(v.parameters) && model.equals(v.model);
    }

    @Override
    public int hashCode() {
        return hook.hashCode() * 31 + Arrays.hashCode(direction);
    }

    @Override
    public String toString() {
        return method + " " + hook + " |v|=" + String.format("%.4g", norm()) + " " + parameters;
    }
}
