/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static io.jsteer.weights.RawFiles.assertWeightsError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShardedSafeTensorsTest {
    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir Path dir;
    Path index;

    /** Two shards: embed and layer 0 in the first, layer 1 and the norm (BF16) in the second. */
    @BeforeEach
    void writeShards() {
        writeTwoShards(dir);
        index = dir.resolve(ShardedSafeTensors.INDEX_NAME);
    }

    static void writeTwoShards(Path dir) {
        new SafeTensorsWriter().metadata("format", "pt")
                .add("embed", new float[] {1, 2, 3, 4, 5, 6}, DType.F32, 3, 2)
                .add("layers.0.w", new float[] {7, 8}, DType.F32, 2)
                .write(dir.resolve(SHARD1));
        new SafeTensorsWriter()
                .add("layers.1.w", new float[] {9, 10}, DType.F32, 2)
                .add("norm", new float[] {0.5f, -1.25f}, DType.BF16, 2)
                .write(dir.resolve(SHARD2));
        writeIndex(dir.resolve(ShardedSafeTensors.INDEX_NAME), "{\"metadata\":{\"total_size\":44},\"weight_map\":{"
                + "\"embed\":\"" + SHARD1 + "\",\"layers.0.w\":\"" + SHARD1 + "\","
                + "\"layers.1.w\":\"" + SHARD2 + "\",\"norm\":\"" + SHARD2 + "\"}}");
    }

    static void writeIndex(Path file, String json) {
        RawFiles.write(file, json);
    }

    @Test
    void readsTensorsAcrossShards() {
        try (ShardedSafeTensors w = ShardedSafeTensors.open(index)) {
            assertEquals(List.of("embed", "layers.0.w", "layers.1.w", "norm"), List.copyOf(w.names()));
            assertEquals(List.of(SHARD1, SHARD2), List.copyOf(w.shardNames()));
            assertEquals(Map.of("total_size", "44"), w.metadata());
            assertEquals(index, w.path());
            assertArrayEquals(new long[] {3, 2}, w.tensor("embed").shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.tensor("embed").toFloatArray());
            assertArrayEquals(new float[] {9, 10}, w.tensor("layers.1.w").toFloatArray());
            assertArrayEquals(new float[] {0.5f, -1.25f}, w.tensor("norm").toFloatArray());
            assertEquals(DType.BF16, w.tensor("norm").dtype());
            assertTrue(w.has("layers.0.w"));
            assertFalse(w.has("lm_head"));
            assertWeightsError(index, () -> w.tensor("lm_head"), "tensor 'lm_head': missing");
            assertEquals(w.tensor("embed"), w.expectShape("embed", 3, 2));
        }
    }

    @Test
    void shardInSubdirectoryIsAllowed() throws IOException {
        Files.createDirectory(dir.resolve("shards"));
        Files.move(dir.resolve(SHARD2), dir.resolve("shards").resolve(SHARD2));
        writeIndex(index, "{\"weight_map\":{\"embed\":\"" + SHARD1 + "\",\"norm\":\"shards/" + SHARD2 + "\"}}");
        try (ShardedSafeTensors w = ShardedSafeTensors.open(index)) {
            assertEquals(Set.of("embed", "norm"), w.names());
            assertEquals(-1.25f, w.tensor("norm").get(1));
            assertTrue(w.metadata().isEmpty());
        }
    }

    @Test
    void tensorMissingFromItsShard() {
        writeIndex(index, "{\"weight_map\":{\"embed\":\"" + SHARD2 + "\",\"layers.0.w\":\"" + SHARD1 + "\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index),
                "tensor 'embed': mapped to shard '" + SHARD2 + "' which does not contain it (it is in shard '" + SHARD1 + "')");
    }

    @Test
    void tensorMissingEverywhere() {
        writeIndex(index, "{\"weight_map\":{\"lm_head\":\"" + SHARD2 + "\"}}");
        String msg = assertWeightsError(index, () -> ShardedSafeTensors.open(index),
                "tensor 'lm_head': mapped to shard '" + SHARD2 + "' which does not contain it");
        assertFalse(msg.contains("it is in shard"), msg);
    }

    @Test
    void tensorStoredInTwoShards() {
        new SafeTensorsWriter().add("embed", new float[] {0}, DType.F32, 1).write(dir.resolve(SHARD2));
        writeIndex(index, "{\"weight_map\":{\"embed\":\"" + SHARD1 + "\",\"layers.0.w\":\"" + SHARD2 + "\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index),
                "tensor 'embed': stored in both shard '" + SHARD1 + "' and shard '" + SHARD2 + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../model-00001-of-00002.safetensors", "sub/../../x.safetensors", ".."})
    void shardEscapingDirectory(String shard) {
        writeIndex(index, "{\"weight_map\":{\"embed\":\"" + shard + "\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "tensor 'embed': shard '" + shard + "' escapes the index's directory");
    }

    @Test
    void absoluteShardPath() {
        Path abs = dir.resolve(SHARD1).toAbsolutePath();
        writeIndex(index, "{\"weight_map\":{\"embed\":\"" + abs + "\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index),
                "tensor 'embed': shard '" + abs + "' must be a file name relative to the index's directory");
    }

    @Test
    void emptyShardName() {
        writeIndex(index, "{\"weight_map\":{\"embed\":\"\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "tensor 'embed': shard '' must be a file name relative");
    }

    @Test
    void backslashInShardName() {
        writeIndex(index, "{\"weight_map\":{\"embed\":\"..\\\\x.safetensors\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "tensor 'embed': shard '..\\x.safetensors' contains a backslash");
    }

    @Test
    void shardFileMissing() {
        writeIndex(index, "{\"weight_map\":{\"embed\":\"model-00003.safetensors\"}}");
        assertWeightsError(dir.resolve("model-00003.safetensors"), () -> ShardedSafeTensors.open(index), "no such file");
    }

    @Test
    void corruptShardIsNamed() {
        RawFiles.write(dir.resolve(SHARD2), new byte[3]);
        assertWeightsError(dir.resolve(SHARD2), () -> ShardedSafeTensors.open(index), "truncated: 3 bytes");
    }

    @Test
    void indexMissing() {
        Path absent = dir.resolve("absent.index.json");
        assertWeightsError(absent, () -> ShardedSafeTensors.open(absent), "no such file");
    }

    @Test
    void indexInvalidJson() {
        writeIndex(index, "{\"weight_map\":{\"embed\":");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "index is not valid JSON");
    }

    @Test
    void indexDuplicateTensor() {
        writeIndex(index, "{\"weight_map\":{\"embed\":\"" + SHARD1 + "\",\"embed\":\"" + SHARD2 + "\"}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "index is not valid JSON", "Duplicate field 'embed'");
    }

    @Test
    void indexWithoutWeightMap() {
        writeIndex(index, "{\"metadata\":{}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "missing 'weight_map' object");
    }

    @Test
    void indexWithEmptyWeightMap() {
        writeIndex(index, "{\"weight_map\":{}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "'weight_map' is empty");
    }

    @Test
    void indexNotAnObject() {
        writeIndex(index, "[]");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "index is not a JSON object");
    }

    @Test
    void weightMapValueNotAString() {
        writeIndex(index, "{\"weight_map\":{\"embed\":1}}");
        assertWeightsError(index, () -> ShardedSafeTensors.open(index), "tensor 'embed': weight_map entry 1 is not a shard file name");
    }
}
