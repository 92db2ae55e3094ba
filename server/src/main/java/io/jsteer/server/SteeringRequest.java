/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.Composition;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The steering a request asks for, resolved into interventions before the request is queued, so
 * every error is a 400 naming the field and nothing reaches the forward pass unchecked:
 * <pre>
 *   "method":   "preset" | ["preset", ...]      presets fitted when the server started
 *   "steering": [{"vector": "name" | [floats], "layer": L, "hook": "resid_post",
 *                 "coeff": c, "positions": "all" | "prompt" | "newest" | "from:N"}, ...]
 *   "compose":  "sum" | "max-norm:M" | "priority" | "priority:M"     (optional, default sum)
 * </pre>
 * Presets come first, then the steering entries, each applied in order on the previous one's
 * output (additions compose by summing). With {@code compose}, the vectors the request adds
 * (presets that add one vector, then the steering entries, in that order: the first has the
 * highest priority) are combined by {@link Composition}'s rule instead, after the presets that
 * are not a vector. A named vector is looked up once, here: the request keeps
 * that entry even if the name is replaced or deleted while it runs.
 *
 * <p>A named vector is added at its own hook points; {@code layer} and {@code hook} select among
 * them (a GGUF control vector has one per layer) or, for a vector of one direction, move it to
 * another hook point of the same width.
 */
final class SteeringRequest {
    private SteeringRequest() {}

    static List<Intervention> resolve(JsonNode body, ModelConfig config, VectorRegistry registry, Map<String, Intervention> presets) {
        List<Intervention> out = new ArrayList<>();
        JsonNode method = body.get("method");
        if (!Fields.absent(method)) {
            if (method.isTextual()) {
                out.add(preset(method.asText(), "method", presets));
            } else if (method.isArray()) {
                for (int i = 0; i < method.size(); i++) out.add(preset(Fields.string(method.get(i), "method[" + i + "]"), "method[" + i + "]", presets));
            } else {
                throw ApiException.invalid("method", "method must be a preset name or an array of them, got " + Fields.kind(method));
            }
        }
        JsonNode steering = body.get("steering");
        if (!Fields.absent(steering)) {
            if (!steering.isArray()) throw ApiException.invalid("steering", "steering must be an array of {vector, layer, hook, coeff, positions} objects, got " + Fields.kind(steering));
            if (steering.size() > 64) throw ApiException.invalid("steering", "at most 64 steering entries, got " + steering.size());
            for (int i = 0; i < steering.size(); i++) out.addAll(entry(steering.get(i), "steering[" + i + "]", config, registry));
        }
        return compose(body.get("compose"), out);
    }

    /** With a {@code compose} rule, the added vectors (in request order) become one {@link Composition}, attached after the other interventions. */
    private static List<Intervention> compose(JsonNode rule, List<Intervention> all) {
        if (Fields.absent(rule)) return all;
        String text = Fields.string(rule, "compose");
        List<Intervention> out = new ArrayList<>();
        List<AddVector> vectors = new ArrayList<>();
        for (Intervention i : all) {
            if (i instanceof AddVector v) vectors.add(v);
            else out.add(i);
        }
        if (vectors.isEmpty()) throw ApiException.invalid("compose", "compose needs steering vectors to combine; the request adds none");
        try {
            out.add(Composition.parse(text, vectors));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("compose", e.getMessage());
        }
        return out;
    }


    private static Intervention preset(String name, String param, Map<String, Intervention> presets) {
        Intervention p = presets.get(name);
        if (p == null) {
            throw ApiException.invalid(param, "no steering preset '" + name + "'" + (presets.isEmpty() ? "; the server was started without presets" : "; presets: " + String.join(", ", presets.keySet())));
        }
        return p;
    }

    private static List<Intervention> entry(JsonNode e, String at, ModelConfig config, VectorRegistry registry) {
        if (!e.isObject()) throw ApiException.invalid(at, at + " must be an object, got " + Fields.kind(e));
        for (var it = e.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!List.of("vector", "layer", "hook", "coeff", "positions").contains(f)) {
                throw ApiException.invalid(at + "." + f, "unknown field " + at + "." + f + " (expected vector, layer, hook, coeff, positions)");
            }
        }
        Integer layer = null;
        if (!Fields.absent(e.get("layer"))) {
            long l = Fields.integer(e.get("layer"), at + ".layer");
            if (l < 0 || l >= config.numLayers()) throw ApiException.invalid(at + ".layer", at + ".layer " + l + " is out of range: the model has layers 0.." + (config.numLayers() - 1));
            layer = (int) l;
        }
        HookPoint point = null;
        if (!Fields.absent(e.get("hook"))) {
            try {
                point = HookPoint.parse(Fields.string(e.get("hook"), at + ".hook"));
            } catch (IllegalArgumentException ex) {
                throw ApiException.invalid(at + ".hook", at + ".hook: " + ex.getMessage());
            }
        }
        double coeff = Fields.number(e, "coeff", at + ".coeff", 1.0);
        PositionRule positions = positions(e.get("positions"), at + ".positions");
        JsonNode v = e.get("vector");
        if (Fields.absent(v)) throw ApiException.invalid(at + ".vector", at + ".vector is required: a registered vector's name or an array of " + config.hiddenSize() + " numbers");

        List<SteeringVector> chosen = new ArrayList<>();
        if (v.isArray()) {
            if (layer == null) throw ApiException.invalid(at + ".layer", at + ".layer is required with a vector given as numbers");
            float[] values = new float[v.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) Fields.number(v.get(i), at + ".vector[" + i + "]");
                if (!Float.isFinite(values[i])) throw ApiException.invalid(at + ".vector[" + i + "]", at + ".vector[" + i + "] does not fit a float");
            }
            if (values.length != config.hiddenSize()) {
                throw ApiException.invalid(at + ".vector", at + ".vector has " + values.length + " values, the model's hidden size is " + config.hiddenSize());
            }
            chosen.add(new SteeringVector(new HookName(layer, point == null ? HookPoint.RESID_POST : point), values, "request", Map.of(), "request"));
        } else if (v.isTextual()) {
            String name = v.asText();
            VectorRegistry.Entry entry = registry.get(name).orElseThrow(() -> ApiException.invalid(at + ".vector",
                    "unknown steering vector '" + name + "'; registered: " + (registry.list().isEmpty() ? "none" : String.join(", ", registry.list().stream().map(VectorRegistry.Entry::name).toList()))));
            List<SteeringVector> all = entry.vectors();
            if (all.size() == 1) {
                SteeringVector only = all.getFirst();
                HookName hook = new HookName(layer == null ? only.hook().layer() : layer, point == null ? only.hook().point() : point);
                chosen.add(hook.equals(only.hook()) ? only : new SteeringVector(hook, only.direction(), only.method(), only.parameters(), only.model()));
            } else {
                for (SteeringVector s : all) {
                    if ((layer == null || s.hook().layer() == layer) && (point == null || s.hook().point() == point)) chosen.add(s);
                }
                if (chosen.isEmpty()) {
                    throw ApiException.invalid(at + ".layer", "vector '" + name + "' has no direction at " + (layer == null ? "layer any" : "layer " + layer)
                            + (point == null ? "" : ", hook " + point.tlName()) + "; it has " + all.stream().map(s -> s.hook().toString()).toList());
                }
            }
        } else {
            throw ApiException.invalid(at + ".vector", at + ".vector must be a vector name or an array of numbers, got " + Fields.kind(v));
        }

        List<Intervention> out = new ArrayList<>();
        for (SteeringVector s : chosen) {
            try {
                s.requireCompatible(config);
            } catch (IllegalArgumentException ex) {
                throw ApiException.invalid(at, at + ": " + ex.getMessage());
            }
            float[] d = s.direction();
            for (int i = 0; i < d.length; i++) {
                if (!Float.isFinite((float) (coeff * d[i]))) {
                    throw ApiException.invalid(at + ".coeff", at + ".coeff " + coeff + " times the vector overflows a float at index " + i);
                }
            }
            out.add(new AddVector(s, coeff, positions));
        }
        return out;
    }

    private static PositionRule positions(JsonNode n, String param) {
        if (Fields.absent(n)) return PositionRule.all();
        String s = Fields.string(n, param);
        switch (s) {
            case "all":
                return PositionRule.all();
            case "prompt":
                return PositionRule.promptOnly();
            case "newest":
                return PositionRule.newest();
            default:
                if (s.startsWith("from:")) {
                    try {
                        int from = Integer.parseInt(s.substring(5));
                        if (from >= 0) return PositionRule.from(from);
                    } catch (NumberFormatException ignored) {
                        // falls through to the error below
                    }
                }
                throw ApiException.invalid(param, param + " '" + s + "' is not one of all, prompt, newest, from:N (N >= 0)");
        }
    }
}
