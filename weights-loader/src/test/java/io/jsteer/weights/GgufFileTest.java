/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF reader on well-formed files and on every kind of damage it must name instead of crashing or over-allocating. */
class GgufFileTest {
    @TempDir
    Path dir;

    /** Little-endian GGUF bytes, field by field. */
    private static final class Bytes {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Bytes u32(int v) {
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        Bytes u64(long v) {
            return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        Bytes pad() {
            while (out.size() % 32 != 0) out.write(0);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** Header of one tensor of {@code type} with {@code ne}, offset 0, and one metadata string. */
    private static Bytes oneTensor(int type, long... ne) {
        Bytes b = new Bytes().u32(GgufFile.MAGIC).u32(3).u64(1).u64(1);
        b.str("general.architecture").u32(GgufFile.TYPE_STRING).str("test");
        b.str("w").u32(ne.length);
        for (long n : ne) b.u64(n);
        return b.u32(type).u64(0).pad();
    }

    private WeightsException refused(byte[] bytes) throws Exception {
        Path f = dir.resolve("bad.gguf");
        Files.write(f, bytes);
        return assertThrows(WeightsException.class, () -> GgufFile.read(f));
    }

    @Test
    void readsAQuantizedTensorAsItsDecodedValues() throws Exception {
        float[] values = new float[64];
        for (int i = 0; i < 64; i++) values[i] = (i - 30) / 7f;
        byte[] blocks = new byte[68];
        for (int b = 0; b < 2; b++) Quants.quantizeBlock(DType.Q8_0, values, 32 * b, MemorySegment.ofArray(blocks), 34L * b);
        Path f = dir.resolve("ok.gguf");
        Files.write(f, oneTensor(8, 32, 2).raw(blocks).pad().bytes());
        try (GgufFile g = GgufFile.read(f)) {
            assertEquals("test", g.metadata().get("general.architecture"));
            Tensor t = g.tensor("w");
            assertEquals(DType.Q8_0, t.dtype());
            assertArrayEquals(new long[] {2, 32}, t.shape());
            float[] back = t.toFloatArray();
            for (int i = 0; i < 64; i++) assertEquals(values[i], back[i], 0.01f * Math.abs(values[i]) + 0.02f, "element " + i);
        }
    }

    @Test
    void writesWhatItReads() throws Exception {
        Path f = dir.resolve("w.gguf");
        Map<String, GgufFile.Value> meta = new LinkedHashMap<>();
        meta.put("a.string", GgufFile.Value.string("x"));
        meta.put("a.int", GgufFile.Value.uint32(7));
        meta.put("a.float", GgufFile.Value.float32(0.5f));
        meta.put("a.bool", GgufFile.Value.bool(true));
        meta.put("a.list", GgufFile.Value.array(GgufFile.TYPE_STRING, List.of("p", "q")));
        byte[] q = new byte[34];
        Quants.quantizeBlock(DType.Q8_0, new float[32], 0, MemorySegment.ofArray(q), 0);
        GgufFile.write(f, meta, List.of(
                new GgufFile.Entry("v", DType.F32, new long[] {3}, out -> MemorySegment.copy(new float[] {1, 2, 3}, 0, out, Tensor.F32, 0, 3)),
                new GgufFile.Entry("m", DType.Q8_0, new long[] {1, 32}, out -> MemorySegment.copy(MemorySegment.ofArray(q), 0, out, 0, 34))));
        try (GgufFile g = GgufFile.read(f)) {
            assertEquals("x", g.metadata().get("a.string"));
            assertEquals(7L, g.metadata().get("a.int"));
            assertEquals(0.5, g.metadata().get("a.float"));
            assertEquals(true, g.metadata().get("a.bool"));
            assertEquals(List.of("p", "q"), g.metadata().get("a.list"));
            assertArrayEquals(new float[] {1, 2, 3}, g.floats("v"));
            assertArrayEquals(new long[] {1, 32}, g.tensor("m").shape());
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void namesEachDefect() throws Exception {
        String f = dir.resolve("bad.gguf") + ": ";
        byte[] good = oneTensor(8, 32, 2).raw(new byte[68]).pad().bytes();
        assertEquals(f + "tensor 'w': has unknown ggml type id 99 (supported: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K)",
                refused(oneTensor(99, 32).raw(new byte[128]).bytes()).getMessage());
        assertEquals(f + "tensor 'w': has ggml type Q4_1 (3), which jsteer does not read (supported: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K)",
                refused(oneTensor(3, 32).raw(new byte[128]).bytes()).getMessage());
        assertEquals(f + "tensor 'w': row of 33 elements is not a whole number of Q8_0 blocks of 32",
                refused(oneTensor(8, 33).raw(new byte[128]).bytes()).getMessage());
        assertEquals(f + "tensor 'w': dimensions [4294967296, 4294967296] overflow a 64-bit element count",
                refused(oneTensor(0, 1L << 32, 1L << 32).bytes()).getMessage());
        assertEquals(f + "tensor 'w': data [128, 196) lies beyond the end of the file (150 bytes)",
                refused(java.util.Arrays.copyOf(good, 150)).getMessage());
        assertEquals(f + "truncated: the file ends inside the header (70 bytes)", refused(java.util.Arrays.copyOf(good, 70)).getMessage());
        assertEquals(f + "tensor count 1152921504606846976 is impossible for a file of 24 bytes",
                refused(new Bytes().u32(GgufFile.MAGIC).u32(3).u64(1L << 60).u64(0).bytes()).getMessage());
        assertEquals(f + "string of 1099511627776 bytes at offset 24 runs past the end of the file",
                refused(new Bytes().u32(GgufFile.MAGIC).u32(3).u64(0).u64(1).u64(1L << 40).bytes()).getMessage());
        assertEquals(f + "metadata 'k': array of 4611686018427387904 elements is longer than the file",
                refused(new Bytes().u32(GgufFile.MAGIC).u32(3).u64(0).u64(1).str("k").u32(GgufFile.TYPE_ARRAY).u32(GgufFile.TYPE_UINT8).u64(1L << 62).bytes()).getMessage());
        assertEquals(f + "metadata 'k' has unknown GGUF type 77",
                refused(new Bytes().u32(GgufFile.MAGIC).u32(3).u64(0).u64(1).str("k").u32(77).bytes()).getMessage());
        Bytes misaligned = new Bytes().u32(GgufFile.MAGIC).u32(3).u64(1).u64(0).str("w").u32(1).u64(32).u32(0).u64(4).pad().raw(new byte[160]);
        assertEquals(f + "tensor 'w': offset 4 is not a multiple of the alignment 32", refused(misaligned.bytes()).getMessage());
        Bytes gap = new Bytes().u32(GgufFile.MAGIC).u32(3).u64(1).u64(0).str("w").u32(1).u64(8).u32(0).u64(64).pad().raw(new byte[160]);
        assertEquals(f + "tensor 'w': offset 64, expected 0 (tensors are packed in order, each padded to 32 bytes)", refused(gap.bytes()).getMessage());
        assertEquals(f + "not a GGUF file (magic is not 'GGUF')", refused(new byte[] {1, 2, 3, 4, 5}).getMessage());
        assertEquals(f + "not a GGUF file (magic is not 'GGUF')", refused(new byte[0]).getMessage());
    }

    @Test
    void modelFilesNameTheMissingKey() throws Exception {
        Path f = dir.resolve("m.gguf");
        Map<String, GgufFile.Value> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufFile.Value.string("gemma2"));
        meta.put("gemma2.embedding_length", GgufFile.Value.uint32(64));
        GgufFile.write(f, meta, List.of());
        WeightsException e = assertThrows(WeightsException.class, () -> Checkpoint.open(f));
        assertEquals(f + ": missing 'gemma2.block_count'", e.getMessage());
        meta.put("general.architecture", GgufFile.Value.string("mamba"));
        GgufFile.write(f, meta, List.of());
        e = assertThrows(WeightsException.class, () -> Checkpoint.open(f));
        assertEquals(f + ": general.architecture 'mamba' is not supported (supported: gptneox, gemma, gemma2, gemma3, llama, qwen2, qwen3)", e.getMessage());
    }

    /** A llama file of head size 16 (8 rotated pairs) whose metadata says {@code extra} besides, holding {@code factors} as rope_freqs.weight. */
    private Path llamaWithRopeFactors(String arch, Map<String, GgufFile.Value> extra, DType type, long[] shape, float... factors) {
        Path f = dir.resolve("rope.gguf");
        Map<String, GgufFile.Value> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufFile.Value.string(arch));
        for (String k : List.of("embedding_length", "feed_forward_length")) meta.put(arch + "." + k, GgufFile.Value.uint32(32));
        meta.put(arch + ".block_count", GgufFile.Value.uint32(1));
        meta.put(arch + ".attention.head_count", GgufFile.Value.uint32(2));
        meta.putAll(extra);
        GgufFile.write(f, meta, List.of(new GgufFile.Entry("token_embd.weight", DType.F32, new long[] {4, 32}, out -> { }),
                new GgufFile.Entry("rope_freqs.weight", type, shape, out -> {
                    for (int i = 0; i < factors.length; i++) out.setAtIndex(Tensor.F32, i, factors[i]);
                })));
        return f;
    }

    @Test
    void ropeFactorsOfLlamaFilesAreReadAndCheckedAsLlamaCppCreatesThem() {
        float[] good = {1, 1.5f, 2, 4, 8, 8, 8, 8};
        Path f = llamaWithRopeFactors("llama", Map.of(), DType.F32, new long[] {8}, good);
        try (Checkpoint cp = Checkpoint.open(f)) {
            assertEquals(RopeScaling.factors(good), cp.config().ropeScaling());
            assertArrayEquals(good, cp.config().ropeScaling().frequencyFactors());
            assertEquals(Set.of("model.embed_tokens.weight"), cp.weights().names(), "the factors are no weight");
        }

        String t = ": tensor 'rope_freqs.weight': ";
        f = llamaWithRopeFactors("llama", Map.of(), DType.F32, new long[] {16}, new float[16]);
        assertEquals(f + t + "must be F32 of shape [8] (one factor per rotated pair of 16 dimensions), got F32 [16]", refusedModel(f));
        f = llamaWithRopeFactors("llama", Map.of(), DType.F32, new long[] {2, 4}, good);
        assertEquals(f + t + "must be F32 of shape [8] (one factor per rotated pair of 16 dimensions), got F32 [2, 4]", refusedModel(f));
        f = llamaWithRopeFactors("llama", Map.of(), DType.F16, new long[] {8});
        assertEquals(f + t + "must be F32 of shape [8] (one factor per rotated pair of 16 dimensions), got F16 [8]", refusedModel(f));
        float[][] bad = {{0}, {-2}, {Float.NaN}, {Float.POSITIVE_INFINITY}, {Float.MIN_VALUE}};
        for (float[] b : bad) {
            float[] factors = good.clone();
            factors[3] = b[0];
            f = llamaWithRopeFactors("llama", Map.of(), DType.F32, new long[] {8}, factors);
            assertEquals(f + t + "factor 3 is " + b[0] + "; RoPE frequency factors must be positive, finite and normal", refusedModel(f));
        }
        f = llamaWithRopeFactors("llama", Map.of("llama.rope.scaling.type", GgufFile.Value.string("linear"), "llama.rope.scaling.factor", GgufFile.Value.float32(2)),
                DType.F32, new long[] {8}, good);
        assertEquals(f + t + "per-dimension RoPE factors together with 'llama.rope.scaling.type' linear are not supported", refusedModel(f));
        f = llamaWithRopeFactors("qwen2", Map.of(), DType.F32, new long[] {8}, good);
        assertEquals(f + t + "per-dimension RoPE factors belong to llama files, not qwen2", refusedModel(f));
    }

    private static String refusedModel(Path f) {
        return assertThrows(WeightsException.class, () -> Checkpoint.open(f).close()).getMessage();
    }
}
