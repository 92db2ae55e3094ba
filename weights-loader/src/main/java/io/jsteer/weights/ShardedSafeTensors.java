/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint split over several safetensors shards, described by a Hugging Face
 * {@code model.safetensors.index.json}: {@code {"metadata": {...}, "weight_map": {"tensor": "shard file"}}}.
 *
 * <p>Each referenced shard is mapped once. Opening checks that shard names stay inside the index's
 * directory (no absolute paths, no {@code ..}; symbolic links such as the Hugging Face cache's are
 * followed), that every tensor of the weight map is in the shard it is mapped to, and that no
 * tensor is stored in two shards. The exposed tensors are exactly those of the weight map.
 */
public final class ShardedSafeTensors implements WeightSource {
    /** The file name Hugging Face gives the index. */
    public static final String INDEX_NAME = "model.safetensors.index.json";

    private final Path index;
    private final Map<String, SafeTensorsFile> shards;
    private final Map<String, SafeTensorsFile> byTensor;
    private final Map<String, String> metadata;

    private ShardedSafeTensors(Path index, Map<String, SafeTensorsFile> shards, Map<String, SafeTensorsFile> byTensor,
                               Map<String, String> metadata) {
        this.index = index;
        this.shards = shards;
        this.byTensor = byTensor;
        this.metadata = metadata;
    }

    /** Reads {@code indexFile}, maps its shards and validates them; throws {@link WeightsException} on any defect. */
    public static ShardedSafeTensors open(Path indexFile) {
        if (!Files.isRegularFile(indexFile)) throw new WeightsException(indexFile, "no such file");
        JsonNode root;
        try {
            root = Json.STRICT.readTree(indexFile.toFile());
        } catch (JacksonException e) {
            throw new WeightsException(indexFile, "index is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new WeightsException(indexFile, "cannot read: " + WeightsException.describe(e), e);
        }
        if (root == null || !root.isObject()) throw new WeightsException(indexFile, "index is not a JSON object");
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) throw new WeightsException(indexFile, "missing 'weight_map' object");
        if (weightMap.isEmpty()) throw new WeightsException(indexFile, "'weight_map' is empty");

        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, String> shardOf = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new WeightsException(indexFile, e.getKey(), "weight_map entry " + e.getValue() + " is not a shard file name");
            }
            checkShardName(indexFile, e.getKey(), e.getValue().asText());
            shardOf.put(e.getKey(), e.getValue().asText());
        }

        Map<String, SafeTensorsFile> shards = new LinkedHashMap<>();
        try {
            for (String shard : shardOf.values()) {
                if (!shards.containsKey(shard)) shards.put(shard, SafeTensorsFile.open(dir.resolve(shard)));
            }
            Map<String, String> storedIn = new HashMap<>();
            for (Map.Entry<String, SafeTensorsFile> s : shards.entrySet()) {
                for (String name : s.getValue().names()) {
                    String other = storedIn.putIfAbsent(name, s.getKey());
                    if (other != null) {
                        throw new WeightsException(indexFile, name, "stored in both shard '" + other + "' and shard '" + s.getKey() + "'");
                    }
                }
            }
            Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                SafeTensorsFile file = shards.get(e.getValue());
                if (!file.has(e.getKey())) {
                    String actual = storedIn.get(e.getKey());
                    throw new WeightsException(indexFile, e.getKey(), "mapped to shard '" + e.getValue() + "' which does not contain it"
                            + (actual == null ? "" : " (it is in shard '" + actual + "')"));
                }
                byTensor.put(e.getKey(), file);
            }
            return new ShardedSafeTensors(indexFile, Collections.unmodifiableMap(shards),
                    Collections.unmodifiableMap(byTensor), readMetadata(root));
        } catch (RuntimeException e) {
            shards.values().forEach(SafeTensorsFile::close);
            throw e;
        }
    }

    /** A shard name is a path relative to the index's directory that cannot leave it. */
    private static void checkShardName(Path indexFile, String tensor, String shard) {
        Path p;
        try {
            p = Path.of(shard);
        } catch (InvalidPathException e) {
            throw new WeightsException(indexFile, tensor, "shard name '" + shard + "' is not a valid path");
        }
        if (shard.isEmpty() || p.isAbsolute()) {
            throw new WeightsException(indexFile, tensor, "shard '" + shard + "' must be a file name relative to the index's directory");
        }
        if (shard.contains("\\")) {
            throw new WeightsException(indexFile, tensor, "shard '" + shard + "' contains a backslash; use '/' to separate directories");
        }
        for (Path part : p) {
            if (part.toString().equals("..")) {
                throw new WeightsException(indexFile, tensor, "shard '" + shard + "' escapes the index's directory");
            }
        }
    }

    private static Map<String, String> readMetadata(JsonNode root) {
        Map<String, String> meta = new LinkedHashMap<>();
        JsonNode m = root.path("metadata");
        for (Map.Entry<String, JsonNode> e : m.properties()) {
            meta.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
        }
        return Collections.unmodifiableMap(meta);
    }

    /** The index's {@code metadata} object, values as text (e.g. {@code total_size}); empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The shard file names, in the order they are first referenced. */
    public Set<String> shardNames() {
        return shards.keySet();
    }

    @Override
    public boolean has(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public Tensor tensor(String name) {
        SafeTensorsFile f = byTensor.get(name);
        if (f == null) throw new WeightsException(index, name, "missing");
        return f.tensor(name);
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    @Override
    public Path path() {
        return index;
    }

    @Override
    public void checkUnchanged() {
        for (SafeTensorsFile shard : shards.values()) shard.checkUnchanged();
    }

    @Override
    public void close() {
        shards.values().forEach(SafeTensorsFile::close);
    }
}
