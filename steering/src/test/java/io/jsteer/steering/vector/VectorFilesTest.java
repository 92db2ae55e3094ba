/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.SafeTensorsWriter;
import io.jsteer.weights.WeightsException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VectorFilesTest {
    @TempDir
    Path dir;

    static ModelConfig pythiaTiny() {
        try {
            return ModelConfig.load(Path.of(VectorFilesTest.class.getResource("/pythia-tiny-config.json").toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2f) / 7f;
        return v;
    }

    static SteeringVector vector(int layer, int width) {
        return new SteeringVector(new HookName(layer, HookPoint.RESID_POST), ramp(width), "caa", Map.of("readout", "last token", "pairs", "4"), "pythia-tiny");
    }

    @Test
    void roundTripKeepsEverything() throws Exception {
        SteeringVector v = vector(2, 64);
        Path f = dir.resolve("v.safetensors");
        VectorFiles.save(f, v);
        SteeringVector back = VectorFiles.load(f, pythiaTiny());
        assertEquals(v, back);
        assertArrayEquals(v.direction(), back.direction());
        assertEquals("last token", back.parameters().get("readout"));
        assertEquals(new HookName(2, HookPoint.RESID_POST), back.hook());
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertEquals("2", st.metadata().get("layer"));
            assertEquals("hook_resid_post", st.metadata().get("hook_point"));
            assertEquals("{\"pairs\":\"4\",\"readout\":\"last token\"}", st.metadata().get("parameters"));
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void checksAgainstTheModel() {
        Path wide = dir.resolve("wide.safetensors");
        VectorFiles.save(wide, vector(1, 32));
        WeightsException e = assertThrows(WeightsException.class, () -> VectorFiles.load(wide, pythiaTiny()));
        assertEquals(wide + ": steering vector for blocks.1.hook_resid_post has 32 values, the model's hidden size is 64", e.getMessage());

        Path deep = dir.resolve("deep.safetensors");
        VectorFiles.save(deep, vector(4, 64));
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(deep, pythiaTiny()));
        assertEquals(deep + ": steering vector layer 4 is out of range: the model has layers 0..3", e.getMessage());

        Path mid = dir.resolve("mid.safetensors");
        VectorFiles.save(mid, new SteeringVector(new HookName(1, HookPoint.RESID_MID), ramp(64), "caa", Map.of(), "m"));
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(mid, pythiaTiny()));
        assertEquals(mid + ": blocks.1.hook_resid_mid does not exist: this model's blocks use a parallel residual", e.getMessage());
    }

    /** Writes a file by hand, bypassing {@link VectorFiles#save}, to reach the reader's checks. */
    private Path handWritten(String name, float[] values, Map<String, String> meta) {
        Path f = dir.resolve(name);
        new SafeTensorsWriter().metadata(meta).add(VectorFiles.TENSOR, values, DType.F32, values.length).write(f);
        return f;
    }

    private static Map<String, String> meta(int width) {
        Map<String, String> m = new HashMap<>(Map.of("format", VectorFiles.FORMAT, "version", "1", "model", "m", "method", "caa", "layer", "1",
                "hook_point", "hook_resid_post", "hidden_size", Integer.toString(width)));
        m.put("parameters", "{}");
        return m;
    }

    @Test
    void refusesNonFiniteValues() {
        float[] v = ramp(8);
        v[3] = Float.NaN;
        Path nan = handWritten("nan.safetensors", v, meta(8));
        WeightsException e = assertThrows(WeightsException.class, () -> VectorFiles.load(nan));
        assertEquals(nan + ": tensor 'direction': has a non-finite value NaN at index 3", e.getMessage());
        v[3] = Float.NEGATIVE_INFINITY;
        Path inf = handWritten("inf.safetensors", v, meta(8));
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(inf));
        assertEquals(inf + ": tensor 'direction': has a non-finite value -Infinity at index 3", e.getMessage());

        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new SteeringVector(new HookName(0, HookPoint.RESID_POST), v, "caa", Map.of(), "m"));
        assertEquals("steering vector for blocks.0.hook_resid_post has a non-finite value -Infinity at index 3", bad.getMessage());
    }

    @Test
    void refusesBadMetadata() {
        Map<String, String> m = meta(8);
        m.remove("layer");
        Path noLayer = handWritten("nolayer.safetensors", ramp(8), m);
        WeightsException e = assertThrows(WeightsException.class, () -> VectorFiles.load(noLayer));
        assertEquals(noLayer + ": missing __metadata__ entry 'layer' (not a jsteer steering vector file?)", e.getMessage());

        m = meta(8);
        m.put("hidden_size", "9");
        Path mismatch = handWritten("mismatch.safetensors", ramp(8), m);
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(mismatch));
        assertEquals(mismatch + ": tensor 'direction': has 8 values but hidden_size says 9", e.getMessage());

        m = meta(8);
        m.put("layer", "-2");
        Path negative = handWritten("negative.safetensors", ramp(8), m);
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(negative));
        assertEquals(negative + ": layer -2 is negative", e.getMessage());

        m = meta(8);
        m.put("hook_point", "hook_q");
        Path point = handWritten("point.safetensors", ramp(8), m);
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(point));
        assertTrue(e.getMessage().startsWith(point + ": unknown hook point 'hook_q' (expected one of resid_pre, attn_out, resid_mid, mlp_out, resid_post, "), e.getMessage());

        m = meta(8);
        m.put("hook_point", "attn.hook_z");
        Path inner = handWritten("inner.safetensors", ramp(8), m);
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(inner));
        assertEquals(inner + ": hook_point 'attn.hook_z' is inside the block: a steering vector acts on the residual stream (resid_pre, attn_out, resid_mid, mlp_out, resid_post)", e.getMessage());

        m = meta(8);
        m.put("parameters", "{\"k\": 3}");
        Path params = handWritten("params.safetensors", ramp(8), m);
        e = assertThrows(WeightsException.class, () -> VectorFiles.load(params));
        assertEquals(params + ": parameter 'k' is not a string: 3", e.getMessage());
        assertFalse(Files.exists(dir.resolve("missing.safetensors")));
    }
}
