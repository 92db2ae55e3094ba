/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.SafeTensorsWriter;
import io.jsteer.weights.Tensor;
import io.jsteer.weights.WeightsException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Steering vectors as {@code .safetensors} files: one F32 tensor {@value #TENSOR} of shape
 * {@code [hidden]} and a {@code __metadata__} map
 * <pre>
 *   format      jsteer.steering_vector      version  1
 *   model       what it was fitted on       method   e.g. caa
 *   layer       block index (0-based)       hook_point  e.g. hook_resid_post
 *   hidden_size number of values            parameters  JSON object of strings
 * </pre>
 * Files appear atomically (see {@link SafeTensorsWriter}). Loading checks everything it reads and
 * names the file and the defect; {@link #load(Path, ModelConfig)} also checks the vector against
 * the model it is about to steer.
 */
public final class VectorFiles {
    /** The tensor holding the values. */
    public static final String TENSOR = "direction";
    /** The {@code format} metadata value. */
    public static final String FORMAT = "jsteer.steering_vector";

    private static final ObjectMapper JSON = new ObjectMapper();

    private VectorFiles() {}

    /** Writes {@code v} to {@code file}, replacing it atomically. */
    public static void save(Path file, SteeringVector v) {
        new SafeTensorsWriter()
                .metadata("format", FORMAT)
                .metadata("version", "1")
                .metadata("model", v.model())
                .metadata("method", v.method())
                .metadata("layer", Integer.toString(v.hook().layer()))
                .metadata("hook_point", v.hook().point().tlName())
                .metadata("hidden_size", Integer.toString(v.width()))
                .metadata("parameters", toJson(v.parameters()))
                .add(TENSOR, v.direction(), DType.F32, v.width())
                .write(file);
    }

    /** Reads and checks a vector file on its own (format, metadata, shape, finite values). */
    public static SteeringVector load(Path file) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            Map<String, String> meta = st.metadata();
            String format = require(file, meta, "format");
            if (!format.equals(FORMAT)) throw new WeightsException(file, "format is '" + format + "', expected '" + FORMAT + "'");
            String version = require(file, meta, "version");
            if (!version.equals("1")) throw new WeightsException(file, "unsupported version '" + version + "' (this reader knows version 1)");
            int layer = parseInt(file, "layer", require(file, meta, "layer"));
            if (layer < 0) throw new WeightsException(file, "layer " + layer + " is negative");
            HookPoint point;
            try {
                point = HookPoint.parse(require(file, meta, "hook_point"));
            } catch (IllegalArgumentException e) {
                throw new WeightsException(file, e.getMessage());
            }
            if (!point.residual()) throw new WeightsException(file, SteeringVector.RESIDUAL_ONLY.formatted("hook_point '" + point.tlName() + "'"));
            int width = parseInt(file, "hidden_size", require(file, meta, "hidden_size"));
            if (!st.has(TENSOR)) throw new WeightsException(file, "missing tensor '" + TENSOR + "'");
            Tensor t = st.tensor(TENSOR);
            if (t.rank() != 1) throw new WeightsException(file, TENSOR, "has rank " + t.rank() + ", expected a 1-D vector");
            if (t.size() != width) throw new WeightsException(file, TENSOR, "has " + t.size() + " values but hidden_size says " + width);
            float[] values = t.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) throw new WeightsException(file, TENSOR, "has a non-finite value " + values[i] + " at index " + i);
            }
            try {
                return new SteeringVector(new HookName(layer, point), values, require(file, meta, "method"),
                        parameters(file, require(file, meta, "parameters")), require(file, meta, "model"));
            } catch (IllegalArgumentException e) {
                throw new WeightsException(file, e.getMessage());
            }
        }
    }

    /** Reads a vector file and checks it fits {@code config} (width, layer range, hook point). */
    public static SteeringVector load(Path file, ModelConfig config) {
        SteeringVector v = load(file);
        try {
            v.requireCompatible(config);
        } catch (IllegalArgumentException e) {
            throw new WeightsException(file, e.getMessage());
        }
        return v;
    }

    private static String require(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new WeightsException(file, "missing __metadata__ entry '" + key + "' (not a jsteer steering vector file?)");
        return v;
    }

    private static int parseInt(Path file, String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new WeightsException(file, "__metadata__ entry '" + key + "' is not an integer: '" + value + "'");
        }
    }

    private static String toJson(Map<String, String> parameters) {
        ObjectNode o = JSON.createObjectNode();
        parameters.forEach(o::put);
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a map of strings", e);
        }
    }

    private static Map<String, String> parameters(Path file, String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new WeightsException(file, "__metadata__ entry 'parameters' is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) throw new WeightsException(file, "__metadata__ entry 'parameters' is not a JSON object");
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) throw new WeightsException(file, "parameter '" + e.getKey() + "' is not a string: " + e.getValue());
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }
}
