/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reads the real Hugging Face-written BF16 checkpoint and checks it against an independent
 * decoding: the file's bytes parsed with a plain ByteBuffer, and values printed by Python's
 * struct module when the fixture was made.
 */
class GemmaTinyFixtureTest {
    private static Path fixture() throws URISyntaxException {
        return CheckpointTest.resource("gemma-tiny-bf16/model.safetensors");
    }

    @Test
    void everyElementMatchesAByteBufferDecoding() throws IOException, URISyntaxException {
        byte[] bytes = Files.readAllBytes(fixture());
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = (int) bb.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, headerLen, StandardCharsets.UTF_8));
        int dataStart = 8 + headerLen;
        List<String> expectedNames = new ArrayList<>();
        try (SafeTensorsFile st = SafeTensorsFile.open(fixture())) {
            for (Map.Entry<String, JsonNode> e : header.properties()) {
                if (e.getKey().equals("__metadata__")) continue;
                expectedNames.add(e.getKey());
                Tensor t = st.tensor(e.getKey());
                assertEquals(DType.BF16, t.dtype());
                long[] shape = new long[e.getValue().get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = e.getValue().get("shape").get(i).asLong();
                assertArrayEquals(shape, t.shape(), e.getKey());
                int begin = dataStart + e.getValue().get("data_offsets").get(0).asInt();
                for (int i = 0; i < t.size(); i++) {
                    float expected = Float.intBitsToFloat((bb.getShort(begin + 2 * i) & 0xffff) << 16);
                    assertEquals(expected, t.get(i), e.getKey() + "[" + i + "]");
                }
            }
            assertEquals(expectedNames, List.copyOf(st.names()));
            assertEquals(1 + 3 * 9 + 1, st.names().size(), "embed, 9 tensors per layer, final norm");
            assertEquals(Map.of("format", "pt"), st.metadata());
        }
    }

    @Test
    void knownValues() throws URISyntaxException {
        try (SafeTensorsFile st = SafeTensorsFile.open(fixture())) {
            Tensor embed = st.tensor("model.embed_tokens.weight");
            assertEquals(-0.00286865234375f, embed.get(0));
            assertEquals(0.01348876953125f, embed.get(1));
            assertEquals(-0.029296875f, embed.get(2));
            assertEquals(0.0152587890625f, embed.get(575L * 64 + 63));
            assertArrayEquals(new float[] {2.125f, 1.890625f}, Arrays.copyOf(st.tensor("model.norm.weight").toFloatArray(), 2));
            assertEquals(1.734375f, st.tensor("model.norm.weight").get(63));
            Tensor v = st.tensor("model.layers.2.self_attn.v_proj.weight");
            assertEquals(-0.13671875f, v.get(0));
            assertEquals(0.1015625f, v.get(48 * 64 - 1));
        }
    }
}
