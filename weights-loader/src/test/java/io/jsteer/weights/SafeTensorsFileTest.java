/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static io.jsteer.weights.RawFiles.assertWeightsError;
import static io.jsteer.weights.RawFiles.safetensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SafeTensorsFileTest {
    @TempDir Path dir;

    private Path file(byte[] bytes) {
        return RawFiles.write(dir.resolve("bad.safetensors"), bytes);
    }

    /** Opens a file with this JSON header and data size and expects an error holding the fragments. */
    private void assertRejected(String json, int dataBytes, String... fragments) {
        Path f = file(safetensors(json, dataBytes));
        assertWeightsError(f, () -> SafeTensorsFile.open(f), fragments);
    }

    @Test
    void readsValidHeaderAndValues() {
        byte[] bytes = safetensors("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"empty\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[12,12]},"
                + "\"scalar\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[12,14]}}", 14);
        int data = bytes.length - 14;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(data, 1.5f).putFloat(data + 4, -2f)
                .putShort(data + 8, (short) 0x3c00).putShort(data + 10, (short) 0xc500) // f16 1.0, -5.0
                .putShort(data + 12, (short) 0x4049); // bf16 3.140625
        try (SafeTensorsFile st = SafeTensorsFile.open(file(bytes))) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(List.of("b", "a", "empty", "scalar"), List.copyOf(st.names()));
            assertArrayEquals(new float[] {1.5f, -2f}, st.tensor("a").toFloatArray());
            assertArrayEquals(new float[] {1f, -5f}, st.tensor("b").toFloatArray());
            assertEquals(0, st.tensor("empty").size());
            assertArrayEquals(new long[] {0, 3}, st.tensor("empty").shape());
            assertEquals(0, st.tensor("scalar").rank());
            assertEquals(3.140625f, st.tensor("scalar").get(0));
            assertFalse(st.has("c"));
            assertWeightsError(st.path(), () -> st.tensor("c"), "tensor 'c': missing");
        }
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("absent.safetensors");
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "no such file");
    }

    @Test
    void emptyFile() {
        Path f = file(new byte[0]);
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "empty file");
    }

    @Test
    void shorterThanLengthField() {
        Path f = file(new byte[5]);
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "truncated: 5 bytes");
    }

    @Test
    void headerLongerThanFile() {
        Path f = file(safetensors(100, "{}".getBytes(), 8));
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "truncated: header claims 100 bytes but the file has only 10");
    }

    @Test
    void headerLengthBeyondBound() {
        Path f = file(safetensors(SafeTensorsFile.MAX_HEADER_BYTES + 1, "{}".getBytes(), 0));
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "not a safetensors file: its first 8 bytes give a header length of " + (SafeTensorsFile.MAX_HEADER_BYTES + 1) + ", outside");
    }

    @Test
    void headerLengthWithTopBitSetIsReadUnsigned() {
        Path f = file(safetensors(-1L, "{}".getBytes(), 0));
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "header length of 18446744073709551615, outside");
    }

    @Test
    void headerTooShortForJson() {
        Path f = file(safetensors(0, new byte[0], 4));
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "not a safetensors file: its first 8 bytes give a header length of 0, outside the sane range [2, ");
    }

    @Test
    void invalidUtf8() {
        byte[] h = {'{', '"', (byte) 0xc3, (byte) 0x28, '"', ':', '1', '}'};
        Path f = file(safetensors(h.length, h, 0));
        assertWeightsError(f, () -> SafeTensorsFile.open(f), "header is not valid UTF-8");
    }

    @Test
    void invalidJson() {
        assertRejected("{\"w\": {\"dtype\": ", 0, "header is not valid JSON");
    }

    @Test
    void trailingGarbageAfterJson() {
        assertRejected("{} {}", 0, "header is not valid JSON");
    }

    @Test
    void headerNotAnObject() {
        assertRejected("[1, 2]", 0, "header is not a JSON object");
    }

    @Test
    void duplicateTensorName() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "not valid JSON", "Duplicate field 'w'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"I8", "F64", "U8", "BOOL", "f32"})
    void unsupportedDtype(String dtype) {
        assertRejected("{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
                "tensor 'w': unsupported dtype " + dtype + " (supported: F32, F16, BF16)");
    }

    @Test
    void missingDtype() {
        assertRejected("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'w': missing or non-string dtype");
    }

    @Test
    void entryNotAnObject() {
        assertRejected("{\"w\": 5}", 0, "tensor 'w': header entry is not an object");
    }

    @Test
    void shapeDoesNotMatchOffsets() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24,
                "tensor 'w': data_offsets [0, 20] hold 20 bytes but F32 [2, 3] needs 24");
    }

    @Test
    void overlappingTensors() {
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24,
                "tensor 'b': data_offsets [8, 24] overlap tensor 'a' [0, 16]");
    }

    @Test
    void offsetsBeyondData() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[250],\"data_offsets\":[0,1000]}}", 16,
                "tensor 'w': data_offsets end 1000 lies beyond the data section (16 bytes)");
    }

    @Test
    void offsetsEndBeforeBegin() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8,
                "tensor 'w': data_offsets [8, 4] end before they begin");
    }

    @Test
    void negativeOffset() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8,
                "tensor 'w': data_offsets entry -4 is not a non-negative integer");
    }

    @Test
    void offsetBeyondLongRange() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[18446744073709551616,18446744073709551616]}}", 8,
                "tensor 'w': data_offsets entry 18446744073709551616 is not a non-negative integer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0]", "[0,4,8]", "\"0-4\"", "[0,\"4\"]"})
    void malformedOffsets(String offsets) {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" + offsets + "}}", 8, "tensor 'w': data_offsets");
    }

    /** {@code shown} is how the message prints the entry (Jackson normalises numbers). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "2.5|2.5", "\"2\"|\"2\"", "1e3|1000.0", "-1|-1", "null|null", "99999999999999999999|99999999999999999999"})
    void nonIntegerOrNegativeShape(String dim, String shown) {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[4," + dim + "],\"data_offsets\":[0,8]}}", 8,
                "tensor 'w': shape entry " + shown + " is not a non-negative integer");
    }

    @Test
    void missingShape() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'w': missing or non-array shape");
    }

    @Test
    void shapeOverflowingByteCount() {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8,
                "tensor 'w': shape [4611686018427387904, 4] overflows");
    }

    @Test
    void metadataValueNotAString() {
        assertRejected("{\"__metadata__\":{\"format\":\"pt\",\"layers\":3}}", 0, "__metadata__ entry 'layers' is not a string: 3");
    }

    @Test
    void metadataNotAnObject() {
        assertRejected("{\"__metadata__\":[\"pt\"]}", 0, "__metadata__ is not an object");
    }
}
