/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;

/**
 * The named steering vectors a server knows, changed while it runs. An entry is immutable and
 * replaced whole, so a request that has looked one up keeps it (a snapshot) whatever happens to
 * the name afterwards. Entries live in memory only: a name never becomes a path, so no name can
 * reach outside the registry.
 *
 * <p>An entry holds one direction per hook point: a jsteer vector file ({@link VectorFiles}) gives
 * one, at the hook it was fitted at; a llama.cpp control vector ({@link GgufControlVector}) one per
 * layer, at {@code blocks.N.hook_resid_post}.
 */
public final class VectorRegistry {
    /** Names: a letter or digit, then letters, digits, '.', '_' or '-', at most 64 characters, never "..". */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final byte[] GGUF_MAGIC = {'G', 'G', 'U', 'F'};

    /** One named set of directions, as loaded. */
    public record Entry(String name, List<SteeringVector> vectors, String format, Instant loaded) {
        public Entry {
            vectors = List.copyOf(vectors);
        }
    }

    private final ModelConfig config;
    private final String modelName;
    private final ConcurrentSkipListMap<String, Entry> entries = new ConcurrentSkipListMap<>();

    public VectorRegistry(ModelConfig config, String modelName) {
        this.config = config;
        this.modelName = modelName;
    }

    /** Fails unless {@code name} is a valid vector name. */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
            throw ApiException.invalid("name", "vector name '" + name + "' is not allowed: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'");
        }
        return name;
    }

    public Optional<Entry> get(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    public List<Entry> list() {
        return List.copyOf(entries.values());
    }

    /** Removes {@code name}; whether it was there. Requests that already hold it keep it. */
    public boolean remove(String name) {
        return entries.remove(name) != null;
    }

    /**
     * Parses {@code body} (a jsteer vector file or a GGUF control vector), checks it against the
     * model and stores it as {@code name}, replacing any entry of that name.
     *
     * @throws ApiException 400 naming what is wrong with the file
     */
    public Entry put(String name, byte[] body) {
        checkName(name);
        if (body == null || body.length == 0) throw ApiException.invalid("body", "the request body is empty; send a jsteer vector file or a GGUF control vector");
        Path tmp;
        try {
            tmp = Files.createTempFile("jsteer-vector-", ".bin");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Files.write(tmp, body);
            Entry e = read(name, tmp);
            entries.put(name, e);
            return e;
        } catch (WeightsException | IllegalArgumentException e) {
            throw ApiException.invalid("body", "vector '" + name + "': " + e.getMessage().replace(tmp.toString(), "request body"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    /**
     * Loads every regular file of {@code dir}, each named by its file name without the extension.
     *
     * @throws IllegalArgumentException naming the file that cannot be loaded
     */
    public List<Entry> preload(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--vectors " + dir + " is not a directory");
        List<Entry> loaded = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            List<Path> sorted = new ArrayList<>();
            files.forEach(sorted::add);
            sorted.sort(null);
            for (Path f : sorted) {
                if (!Files.isRegularFile(f) || f.getFileName().toString().startsWith(".")) continue;
                String file = f.getFileName().toString();
                int dot = file.lastIndexOf('.');
                String name = dot > 0 ? file.substring(0, dot) : file;
                try {
                    checkName(name);
                } catch (ApiException e) {
                    throw new IllegalArgumentException(f + ": " + e.getMessage());
                }
                Entry e;
                try {
                    e = read(name, f);
                } catch (WeightsException ex) {
                    throw new IllegalArgumentException(ex.getMessage(), ex);
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException(f + ": " + ex.getMessage(), ex);
                }
                if (entries.putIfAbsent(name, e) != null) throw new IllegalArgumentException(f + ": a vector named '" + name + "' is already loaded");
                loaded.add(e);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot list --vectors " + dir + ": " + e.getMessage(), e);
        }
        return loaded;
    }

    private Entry read(String name, Path file) throws IOException {
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n == 4 && java.util.Arrays.equals(head, GGUF_MAGIC)) return readGguf(name, file);
        }
        SteeringVector v = VectorFiles.load(file, config);
        return new Entry(name, List.of(v), "jsteer", Instant.now());
    }

    private Entry readGguf(String name, Path file) {
        List<SteeringVector> vectors = new ArrayList<>();
        for (Map.Entry<Integer, float[]> d : GgufControlVector.read(file).entrySet()) {
            SteeringVector v = new SteeringVector(new HookName(d.getKey(), HookPoint.RESID_POST), d.getValue(), "gguf-control-vector", Map.of(), modelName);
            try {
                v.requireCompatible(config);
            } catch (IllegalArgumentException e) {
                throw new WeightsException(file, "direction." + d.getKey(), e.getMessage());
            }
            vectors.add(v);
        }
        return new Entry(name, vectors, "gguf", Instant.now());
    }
}
