package io.jsteer.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The reference checkpoints and outputs copied from the original Python implementations. */
final class Fixtures {
    private Fixtures() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /** All fixture model names. */
    static Stream<String> models() {
        return Stream.of("pythia-tiny-parallel", "pythia-tiny-sequential", "gemma-tiny", "gemma-tiny-bf16",
                "gemma-tiny-fp16", "gemma2-tiny", "gemma3-tiny");
    }

    static Path dir(String model) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + model + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(String model, String file) {
        try {
            return JSON.readTree(dir(model).resolve(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
        return out;
    }

    /** A 2-D JSON array flattened row-major. */
    static float[] flat(JsonNode rows) {
        int cols = rows.get(0).size();
        float[] out = new float[rows.size() * cols];
        for (int r = 0; r < rows.size(); r++) {
            JsonNode row = rows.get(r);
            for (int c = 0; c < cols; c++) out[r * cols + c] = (float) row.get(c).asDouble();
        }
        return out;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("length " + a.length + " != " + b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
