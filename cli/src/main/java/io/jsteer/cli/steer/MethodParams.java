/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.ModelConfig;
import io.jsteer.steering.sas.SaeLoaders;
import io.jsteer.steering.sas.SparseAutoencoder;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/** Typed access to the {@code key=value} parameters of a {@link MethodSpec}, with defaults. */
final class MethodParams {
    private final Map<String, String> values;
    private final ModelConfig config;

    MethodParams(Map<String, String> values, ModelConfig config) {
        this.values = values;
        this.config = config;
    }

    /** {@code blocks.<layer>.<hook>}; layer defaults to the middle block, hook to resid_post. */
    HookName hook() {
        int layer = values.containsKey("layer") ? integer("layer") : config.numLayers() / 2;
        if (layer < 0 || layer >= config.numLayers()) {
            throw new IllegalArgumentException("layer " + layer + " is out of range: the model has layers 0.." + (config.numLayers() - 1));
        }
        HookPoint point = values.containsKey("hook") ? HookPoint.parse(values.get("hook")) : HookPoint.RESID_POST;
        if (point == HookPoint.RESID_MID && config.parallelResidual()) {
            throw new IllegalArgumentException("hook resid_mid does not exist: this model's blocks use a parallel residual (use resid_pre, attn_out, mlp_out or resid_post)");
        }
        return new HookName(layer, point);
    }

    ModelConfig config() {
        return config;
    }

        double coefficient() {
        return number("coeff", 1);
    }

    int k() {
        if (!values.containsKey("k")) throw new IllegalArgumentException("needs k=<number of coordinates to keep>");
        return integer("k");
    }

    Readout readout() {
        return values.containsKey("readout") ? PositionRules.readout(values.get("readout")) : Readout.last();
    }

    PositionRule positions() {
        return values.containsKey("positions") ? PositionRules.positions(values.get("positions")) : PositionRule.all();
    }

    /** Fails unless {@code preset} names {@code expected}, or when a key the preset sets was given too. */
    void requirePreset(String expected, String... setByPreset) {
        String v = values.get("preset");
        if (!expected.equals(v)) throw new IllegalArgumentException("preset=" + v + " is not a preset of this method (it has: " + expected + ")");
        for (String k : setByPreset) {
            if (values.containsKey(k)) throw new IllegalArgumentException("preset=" + expected + " sets " + String.join(", ", setByPreset) + "; do not give " + k + " with it");
        }
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    boolean bool(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException(key + "=" + v + " is not true or false");
        };
    }

    /**
     * The sparse autoencoder {@code sae=} names: a SAELens folder, or a Gemma Scope {@code .npz}
     * whose hook point is {@code layer}/{@code hook} (the file does not record it).
     */
    SparseAutoencoder sae() {
        String v = values.get("sae");
        if (v == null) throw new IllegalArgumentException("needs sae=<SAELens folder or Gemma Scope params.npz>");
        Path p = Path.of(v);
        return v.endsWith(".npz") ? SaeLoaders.gemmaScope(p, hook().toString()) : SaeLoaders.saeLens(p);
    }

    /** The steering vector file {@code key} names, checked against the model. */
    SteeringVector vector(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalArgumentException("needs " + key + "=<steering vector file>");
        return VectorFiles.load(Path.of(v), config);
    }

    double number(String key, double fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        try {
            double d = Double.parseDouble(v);
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not a finite number");
        }
    }

    int integer(String key) {
        String v = values.get(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not an integer");
        }
    }

    /** An enum constant by name, case-insensitive, also without an {@code _TOKEN}-style suffix. */
    <E extends Enum<E>> E choice(String key, Class<E> type, E fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        String want = v.toUpperCase(Locale.ROOT).replace('-', '_');
        for (E c : type.getEnumConstants()) {
            if (c.name().equals(want) || c.name().startsWith(want + "_")) return c;
        }
        throw new IllegalArgumentException(key + "=" + v + " is not one of " + Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT));
    }
}
