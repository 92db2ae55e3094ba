/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static io.jsteer.weights.RawFiles.assertWeightsError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {
    @TempDir Path dir;

    /** Float bit patterns that probe every rounding path: ties both ways, subnormals, overflow, signed zero, infinities. */
    private static final int[] EDGE_BITS = {
        0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000,
        0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0x00000001, 0x00800000,
        Float.floatToIntBits(1 + 0x1p-11f), Float.floatToIntBits(1 + 3 * 0x1p-11f), Float.floatToIntBits(65504f),
        Float.floatToIntBits(65519.99f), Float.floatToIntBits(65520f), Float.floatToIntBits(0x1p-24f),
        Float.floatToIntBits(0x1p-25f), Float.floatToIntBits(3 * 0x1p-25f), Float.floatToIntBits(-0x1p-14f),
    };

    /** Edge cases, random bit patterns over all exponents, weight-like values, and exact bfloat16 ties. */
    private static float[] probeValues() {
        Random r = new Random(42);
        List<Float> v = new ArrayList<>();
        for (int b : EDGE_BITS) v.add(Float.intBitsToFloat(b));
        for (int i = 0; i < 4000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (!Float.isNaN(f)) v.add(f);
            v.add((float) (r.nextGaussian() * 0.05));
            v.add(Float.intBitsToFloat((r.nextInt(0x7f7f) << 16) | 0x8000));
            v.add(Float.float16ToFloat((short) r.nextInt(0x7c00)) * (1 + 0x1p-11f));
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i);
        return out;
    }

    private static short bits(Tensor t, long i) {
        return t.data().getAtIndex(Tensor.U16, i);
    }

    @Test
    void f32RoundTripIsExact() {
        float[] a = probeValues();
        float[] b = {Float.NaN, Float.intBitsToFloat(0x7f800123), -0f, 7f, 8f, 9f};
        Path f = dir.resolve("f32.safetensors");
        new SafeTensorsWriter().metadata("format", "pt").metadata(Map.of("note", "ünïcode ✓"))
                .add("a", a, DType.F32, a.length)
                .add("b.matrix", b, DType.F32, 2, 3)
                .write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcode ✓"), st.metadata());
            assertEquals(DType.F32, st.tensor("a").dtype());
            assertArrayEquals(new long[] {2, 3}, st.tensor("b.matrix").shape());
            assertRawBitsEqual(a, st.tensor("a").toFloatArray());
            assertRawBitsEqual(b, st.tensor("b.matrix").toFloatArray());
        }
    }

    private static void assertRawBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "element " + i);
        }
    }

    @Test
    void f16RoundsToNearestEven() {
        float[] v = probeValues();
        Path f = dir.resolve("f16.safetensors");
        new SafeTensorsWriter().add("h", v, DType.F16, v.length).write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            Tensor t = st.tensor("h");
            assertEquals(DType.F16, t.dtype());
            for (int i = 0; i < v.length; i++) {
                short expected = RoundingOracle.F16.round(v[i]);
                assertEquals(expected, bits(t, i), "F16 of " + v[i]);
                assertEquals(Float.floatToFloat16(v[i]), bits(t, i), "F16 of " + v[i]);
                assertEquals(Float.float16ToFloat(expected), t.get(i));
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        float[] v = probeValues();
        Path f = dir.resolve("bf16.safetensors");
        new SafeTensorsWriter().add("h", v, DType.BF16, v.length).write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            Tensor t = st.tensor("h");
            assertEquals(DType.BF16, t.dtype());
            for (int i = 0; i < v.length; i++) {
                short expected = RoundingOracle.BF16.round(v[i]);
                assertEquals(expected, bits(t, i), "BF16 of 0x" + Integer.toHexString(Float.floatToRawIntBits(v[i])));
                assertEquals(Float.intBitsToFloat((expected & 0xffff) << 16), t.get(i));
            }
        }
    }

    @Test
    void handPickedHalfPrecisionPatterns() {
        float[] v = {1f, 1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 65504f, 65520f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-25f, -0f};
        short[] f16 = {0x3c00, 0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0002, (short) 0x8000};
        float[] w = {1f, Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x3f818000), Float.intBitsToFloat(0x3f808001),
            Float.MAX_VALUE, Float.intBitsToFloat(0x7f7f7fff), Float.MIN_VALUE, -2f};
        short[] bf16 = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0x7f80, 0x7f7f, 0x0000, (short) 0xc000};
        Path f = dir.resolve("hand.safetensors");
        new SafeTensorsWriter().add("f16", v, DType.F16, v.length).add("bf16", w, DType.BF16, w.length).write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            for (int i = 0; i < f16.length; i++) assertEquals(f16[i], bits(st.tensor("f16"), i), "f16 " + v[i]);
            for (int i = 0; i < bf16.length; i++) assertEquals(bf16[i], bits(st.tensor("bf16"), i), "bf16 " + w[i]);
        }
    }

    @Test
    void bf16KeepsNaNsNaN() {
        float[] nans = {Float.NaN, Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xff800001), Float.intBitsToFloat(0x7fffffff)};
        for (float n : nans) {
            short b = BFloat16.fromFloat(n);
            assertTrue(Float.isNaN(BFloat16.toFloat(b)), "NaN " + Integer.toHexString(Float.floatToRawIntBits(n)));
            assertEquals(Float.floatToRawIntBits(n) < 0, b < 0, "sign of NaN");
        }
    }

    @Test
    void headerIsPaddedAndDataOrderedByElementSize() throws IOException {
        Path f = dir.resolve("layout.safetensors");
        new SafeTensorsWriter().metadata("format", "pt")
                .add("z.half", new float[] {1, 2, 3}, DType.F16, 3)
                .add("b", new float[] {1, 2}, DType.F32, 2)
                .add("a.bf", new float[] {1}, DType.BF16, 1)
                .add("a", new float[] {1, 2, 3, 4}, DType.F32, 2, 2)
                .write(f);
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = bb.getLong(0);
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":"), header);
        String json = header.stripTrailing();
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '), "padded with spaces");
        assertTrue(header.length() - json.length() < 8);
        JsonNode root = new ObjectMapper().readTree(json);
        assertEquals(List.of("__metadata__", "a", "b", "a.bf", "z.half"), root.properties().stream().map(Map.Entry::getKey).toList());
        assertEquals("[0,16]", root.get("a").get("data_offsets").toString());
        assertEquals("[16,24]", root.get("b").get("data_offsets").toString());
        assertEquals("[24,26]", root.get("a.bf").get("data_offsets").toString());
        assertEquals("[26,32]", root.get("z.half").get("data_offsets").toString());
        assertEquals("[2,2]", root.get("a").get("shape").toString());
        assertEquals(8 + n + 32, bytes.length);
        assertEquals(3f, bb.getFloat((int) (8 + n + 8)));
        assertEquals((short) 0x4200, bb.getShort((int) (8 + n + 30)), "F16 3.0");
    }

    @Test
    void emptyWriterMakesValidFile() {
        Path f = dir.resolve("empty.safetensors");
        new SafeTensorsWriter().write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertTrue(st.names().isEmpty());
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void streamsGeneratedValuesChunkByChunk() {
        int n = 3 * 65536 + 123;
        List<long[]> calls = new ArrayList<>();
        Path f = dir.resolve("big.safetensors");
        new SafeTensorsWriter().add("gen", DType.F32, new long[] {n}, (from, out) -> {
            calls.add(new long[] {from, out.length});
            for (int i = 0; i < out.length; i++) out[i] = value(from + i);
        }).write(f);
        long next = 0;
        for (long[] c : calls) {
            assertEquals(next, c[0], "chunks are contiguous");
            assertTrue(c[1] <= 65536);
            next += c[1];
        }
        assertEquals(n, next);
        assertTrue(calls.size() > 1, "streamed in several chunks");
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            Tensor t = st.tensor("gen");
            for (int i = 0; i < n; i += 997) assertEquals(value(i), t.get(i));
            assertEquals(value(n - 1), t.get(n - 1));
        }
    }

    private static float value(long i) {
        return (float) Math.sin(i * 0.001) * (i % 7);
    }

    @Test
    void copiesMappedTensorsVerbatimOrConverted() throws URISyntaxException, IOException {
        Path fixture = Path.of(getClass().getResource("/weights/gemma-tiny-bf16/model.safetensors").toURI());
        Path same = dir.resolve("same.safetensors"), wide = dir.resolve("wide.safetensors");
        try (SafeTensorsFile src = SafeTensorsFile.open(fixture)) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String name : src.names()) all.put(name, src.tensor(name));
            SafeTensorsWriter.write(same, all, src.metadata(), DType.BF16);
            SafeTensorsWriter.write(wide, Map.of("embed", src.tensor("model.embed_tokens.weight")), Map.of(), DType.F32);
            assertEquals(-1, Files.mismatch(fixture, same), "identical to the file Hugging Face's safetensors wrote");
            try (SafeTensorsFile a = SafeTensorsFile.open(same); SafeTensorsFile b = SafeTensorsFile.open(wide)) {
                assertEquals(src.metadata(), a.metadata());
                assertEquals(src.names(), a.names());
                for (String name : src.names()) {
                    assertEquals(-1, src.tensor(name).data().mismatch(a.tensor(name).data()), name + " copied byte for byte");
                    assertArrayEquals(src.tensor(name).shape(), a.tensor(name).shape());
                }
                assertArrayEquals(src.tensor("model.embed_tokens.weight").toFloatArray(), b.tensor("embed").toFloatArray());
                assertEquals(DType.F32, b.tensor("embed").dtype());
            }
        }
    }

    @Test
    void failureLeavesTargetUntouchedAndNoTemporaryFile() throws IOException {
        Path f = RawFiles.write(dir.resolve("model.safetensors"), "previous");
        IllegalStateException boom = new IllegalStateException("generator failed");
        SafeTensorsWriter w = new SafeTensorsWriter().add("x", DType.F32, new long[] {200_000}, (from, out) -> {
            if (from > 0) throw boom;
        });
        assertSame(boom, assertThrows(IllegalStateException.class, () -> w.write(f)));
        assertEquals("previous", Files.readString(f));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
        Files.delete(f);
        assertThrows(IllegalStateException.class, () -> w.write(f));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "no partial file");
        }
    }

    @Test
    void replacesExistingFile() throws IOException {
        Path f = RawFiles.write(dir.resolve("v.safetensors"), "previous");
        new SafeTensorsWriter().add("v", new float[] {0.5f}, DType.F32, 1).write(f);
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertEquals(0.5f, st.tensor("v").get(0));
        }
    }

    @Test
    void missingDirectory() {
        Path f = dir.resolve("no/such/dir/v.safetensors");
        assertWeightsError(f, () -> new SafeTensorsWriter().write(f), "cannot write: directory", "does not exist");
        assertFalse(Files.exists(dir.resolve("no")));
    }

    @Test
    void rejectsBadArguments() {
        SafeTensorsWriter w = new SafeTensorsWriter().add("v", new float[] {1}, DType.F32, 1);
        assertMessage("tensor 'v' added twice", () -> w.add("v", new float[] {1}, DType.F32, 1));
        assertMessage("'__metadata__' is reserved for metadata", () -> w.add("__metadata__", new float[] {1}, DType.F32, 1));
        assertMessage("tensor name is empty", () -> w.add("", new float[] {1}, DType.F32, 1));
        assertMessage("tensor 'm': shape [2, 3] does not hold 5 values", () -> w.add("m", new float[5], DType.F32, 2, 3));
        assertMessage("tensor 'n': negative dimension in shape [2, -3]", () -> w.add("n", DType.F32, new long[] {2, -3}, (a, b) -> {}));
        assertMessage("tensor 'o': shape [4611686018427387904, 4] overflows",
                () -> w.add("o", DType.F32, new long[] {1L << 62, 4}, (a, b) -> {}));
        assertMessage("metadata value of 'k' is null", () -> w.metadata("k", null));
    }

    private static void assertMessage(String expected, Executable action) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, action).getMessage());
    }
}
