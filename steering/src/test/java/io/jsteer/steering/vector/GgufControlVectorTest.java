/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.WeightsException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufControlVectorTest {
    @TempDir
    Path dir;

    static SteeringVector v(int layer, HookPoint point, float... values) {
        return new SteeringVector(new HookName(layer, point), values, "caa", Map.of(), "m");
    }

    /** The bytes the GGUF v3 specification prescribes, built field by field. */
    static byte[] expectedBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Le le = new Le(out);
        le.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(2).u64(3);
        le.str("general.architecture").u32(8).str("controlvector");
        le.str("controlvector.model_hint").u32(8).str("gptneox");
        le.str("controlvector.layer_count").u32(5).u32(2);
        // three floats take 12 bytes, padded to 32: the second tensor starts at 32
        le.str("direction.1").u32(1).u64(3).u32(0).u64(0);
        le.str("direction.3").u32(1).u64(3).u32(0).u64(32);
        while (out.size() % 32 != 0) out.write(0);
        for (float f : new float[] {2, -4, 1}) le.f32(f);
        while (out.size() % 32 != 0) out.write(0);
        for (float f : new float[] {0.5f, 0, -1}) le.f32(f);
        while (out.size() % 32 != 0) out.write(0);
        return out.toByteArray();
    }

    @Test
    void writesLlamaCppLayoutByteForByte() throws Exception {
        Path f = dir.resolve("cv.gguf");
        // given out of order and unscaled: the file holds coefficient * v, sorted by layer
        GgufControlVector.write(f, "gptneox", List.of(v(3, HookPoint.RESID_POST, 0.25f, 0, -0.5f), v(1, HookPoint.RESID_POST, 1, -2, 0.5f)), 2.0);
        assertArrayEquals(expectedBytes(), Files.readAllBytes(f));

        try (GgufFile g = GgufFile.read(f)) {
        assertEquals(3, g.version());
        assertEquals(32, g.alignment());
        assertEquals("controlvector", g.metadata().get("general.architecture"));
        assertEquals("gptneox", g.metadata().get("controlvector.model_hint"));
        assertEquals(2L, g.metadata().get("controlvector.layer_count"));
        assertEquals(List.of("direction.1", "direction.3"), g.tensors().stream().map(GgufFile.TensorInfo::name).toList());
        }

        Map<Integer, float[]> back = GgufControlVector.read(f);
        assertArrayEquals(new float[] {2, -4, 1}, back.get(1));
        assertArrayEquals(new float[] {0.5f, 0, -1}, back.get(3));
    }

    @Test
    void refusesWhatLlamaCppCannotApply() {
        Path f = dir.resolve("x.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufControlVector.write(f, "gemma", List.of(v(0, HookPoint.RESID_POST, 1, 2)), 1));
        assertEquals("llama.cpp cannot steer block 0: its loader rejects direction.0; cannot export blocks.0.hook_resid_post", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GgufControlVector.write(f, "gemma", List.of(v(2, HookPoint.MLP_OUT, 1, 2)), 1));
        assertEquals("llama.cpp adds control vectors to block outputs only (blocks.L.hook_resid_post); cannot export blocks.2.hook_mlp_out", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GgufControlVector.write(f, "gemma", List.of(v(2, HookPoint.RESID_POST, 1, 2), v(2, HookPoint.RESID_POST, 3, 4)), 1));
        assertEquals("two vectors for layer 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GgufControlVector.write(f, "gemma", List.of(v(1, HookPoint.RESID_POST, 1, 2), v(2, HookPoint.RESID_POST, 3)), 1));
        assertEquals("vectors differ in width: 2 and 1 (blocks.2.hook_resid_post)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GgufControlVector.write(f, "gemma", List.of(v(1, HookPoint.RESID_POST, 3e38f)), 10));
        assertEquals("10.0 x blocks.1.hook_resid_post has a non-finite value Infinity at index 0", e.getMessage());
        assertFalse(Files.exists(f));
    }

    @Test
    void readerReportsDefects() throws Exception {
        Path f = dir.resolve("cv.gguf");
        byte[] good = expectedBytes();

        Files.write(f, Arrays.copyOf(good, good.length - 40));
        WeightsException e = assertThrows(WeightsException.class, () -> GgufFile.read(f));
        assertEquals(f + ": tensor 'direction.3': data [288, 300) lies beyond the end of the file (280 bytes)", e.getMessage());

        byte[] magic = good.clone();
        magic[0] = 'X';
        Files.write(f, magic);
        e = assertThrows(WeightsException.class, () -> GgufFile.read(f));
        assertEquals(f + ": not a GGUF file (magic is not 'GGUF')", e.getMessage());

        byte[] v2 = good.clone();
        v2[4] = 2;
        Files.write(f, v2);
        e = assertThrows(WeightsException.class, () -> GgufFile.read(f));
        assertEquals(f + ": GGUF version 2 is not supported (expected 3)", e.getMessage());

        Files.write(f, Arrays.copyOf(good, 40));
        e = assertThrows(WeightsException.class, () -> GgufFile.read(f));
        assertEquals(f + ": string of 20 bytes at offset 24 runs past the end of the file", e.getMessage());

        Files.write(f, Arrays.copyOf(good, 30));
        e = assertThrows(WeightsException.class, () -> GgufFile.read(f));
        assertEquals(f + ": truncated: the file ends inside the header (30 bytes)", e.getMessage());

        // direction.0 written by hand: llama.cpp rejects it, so does the reader
        GgufFile.writeVectors(f, Map.of("general.architecture", GgufFile.Value.string("controlvector")), Map.of("direction.0", new float[] {1}));
        e = assertThrows(WeightsException.class, () -> GgufControlVector.read(f));
        assertEquals(f + ": tensor 'direction.0': has layer index 0; llama.cpp accepts only layers >= 1", e.getMessage());
    }

    /** Little-endian field writer for the expected bytes. */
    private record Le(ByteArrayOutputStream out) {
        Le raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Le u32(int v) {
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        Le u64(long v) {
            return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Le f32(float v) {
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array());
        }

        Le str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }
    }
}
