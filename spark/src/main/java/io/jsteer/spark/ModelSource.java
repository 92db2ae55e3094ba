/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.defaultmodel.DefaultModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A checkpoint every node can read (local disk at the same path, NFS, or a folder distributed
 * with {@code SparkContext.addFile(dir, true)}), as a Hugging Face folder and optionally a
 * separate tokenizer. Only the names travel to the executors; each executor JVM maps the
 * checkpoint once ({@link ModelCache}).
 *
 * @param dir         the checkpoint folder ({@code config.json}, safetensors), or the name it was added under with {@code addFile}
 * @param tokenizer   a {@code tokenizer.json} to use instead of the folder's own, or null
 * @param sparkFiles  whether {@code dir} names a folder added with {@code addFile}, found on each node with {@code SparkFiles.get}
 */
public record ModelSource(String dir, String tokenizer, boolean sparkFiles) implements Serializable {
    public ModelSource {
        if (dir == null || dir.isBlank()) throw new IllegalArgumentException("model source needs a checkpoint folder");
    }

    /** The checkpoint folder {@code dir} and a separate tokenizer (null: the folder's own). */
    public ModelSource(String dir, String tokenizer) {
        this(dir, tokenizer, false);
    }

    /**
     * A checkpoint folder shipped to every node with {@code spark.sparkContext().addFile(dir, true)}
     * under the name {@code name} (the folder's last path element).
     */
    public static ModelSource distributed(String name) {
        return new ModelSource(name, null, true);
    }

    /** The checkpoint folder on this node. */
    public Path path() {
        return sparkFiles ? Path.of(org.apache.spark.SparkFiles.get(dir)) : Path.of(dir);
    }

    /** The checkpoint in {@code dir} with its own {@code tokenizer.json} (if it has one). */
    public static ModelSource of(Path dir) {
        return new ModelSource(dir.toAbsolutePath().toString(), null);
    }

    /** The built-in default model, built on first use in its cache folder (see {@link DefaultModel#defaultDirectory()}). */
    public static ModelSource defaultModel() {
        return of(DefaultModel.ensure());
    }

    private static final ConcurrentHashMap<String, String> FINGERPRINTS = new ConcurrentHashMap<>();

    /**
     * SHA-256 of the checkpoint's contents: {@code config.json}, every {@code *.safetensors} and
     * {@code *.json} index in name order (name, length, bytes) and the tokenizer used. Read once
     * per JVM and checkpoint (the driver's, for the provenance column), so a row says exactly which
     * weights produced it, whatever the folder is called on each node.
     */
    public String fingerprint() {
        return FINGERPRINTS.computeIfAbsent(path() + "\0" + tokenizer, k -> compute());
    }

    private String compute() {
        Path d = path();
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            try (Stream<Path> s = Files.list(d)) {
                files = s.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.endsWith(".safetensors") || (n.endsWith(".json") && !(tokenizer != null && n.equals("tokenizer.json")));
                }).sorted().toList();
            }
            for (Path f : files) add(sha, f.getFileName().toString(), f);
            if (tokenizer != null) add(sha, "tokenizer.json", Path.of(tokenizer));
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + d + " to fingerprint it: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void add(MessageDigest sha, String name, Path file) throws IOException {
        sha.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sha.update((byte) 0);
        long size = Files.size(file);
        for (int i = 0; i < 8; i++) sha.update((byte) (size >>> (8 * i)));
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) sha.update(buf, 0, n);
        }
    }
}
