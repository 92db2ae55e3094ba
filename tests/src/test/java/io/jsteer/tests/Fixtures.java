/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The reference checkpoints and outputs copied from the original Python implementations into
 * {@code src/test/resources/fixtures} (see its README), and readers for their JSON.
 */
public final class Fixtures {
    private Fixtures() {}

    public static final ObjectMapper JSON = new ObjectMapper();

    /** All fixture model names. */
    public static Stream<String> models() {
        return Stream.of("pythia-tiny-parallel", "pythia-tiny-sequential", "gemma-tiny", "gemma-tiny-bf16",
                "gemma-tiny-fp16", "gemma2-tiny", "gemma3-tiny", "llama3-tiny", "llama3-tiny-bf16", "llama2-tiny", "mistral-tiny",
                "qwen2-tiny", "qwen3-tiny");
    }

    /** The fixtures of the Llama-like families, one per quirk (see the fixtures README). */
    public static Stream<String> llamaLike() {
        return Stream.of("llama3-tiny", "llama2-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny");
    }

    /** The checkpoint folder of fixture {@code model}. */
    public static Path dir(String model) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + model + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JSON file of fixture {@code model}, e.g. {@code reference.json}. */
    public static JsonNode json(String model, String file) {
        return json(dir(model).resolve(file));
    }

    public static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    public static List<int[]> intLists(JsonNode a) {
        List<int[]> out = new ArrayList<>();
        for (JsonNode n : a) out.add(ints(n));
        return out;
    }

    /** A 1-D array, or a 2-D one flattened row-major. */
    public static float[] floats(JsonNode a) {
        if (a.isEmpty() || !a.get(0).isArray()) {
            float[] out = new float[a.size()];
            for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
            return out;
        }
        int cols = a.get(0).size();
        float[] out = new float[a.size() * cols];
        for (int r = 0; r < a.size(); r++) {
            JsonNode row = a.get(r);
            for (int c = 0; c < cols; c++) out[r * cols + c] = (float) row.get(c).asDouble();
        }
        return out;
    }

    public static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("length " + a.length + " != " + b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    public static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
