/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jsteer.weights.TempFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Output files that appear whole or not at all: content is streamed to a temporary file in the
 * target's directory, which replaces the target only when complete and is deleted on any failure.
 */
public final class OutputFiles {
    private OutputFiles() {}

    /** Pretty-printing mapper for small JSON outputs. */
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Mapper for one-line JSON (JSON lines). */
    public static final ObjectMapper JSON_LINE = new ObjectMapper();

    /** Writes to a stream. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Streams JSON. */
    @FunctionalInterface
    public interface JsonContent {
        void writeTo(JsonGenerator json) throws IOException;
    }

    /** Creates {@code dir} and its parents when missing, with a one-line error when it cannot. */
    public static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code file} atomically; the parent directory is created when missing. */
    public static void write(Path file, Content content) {
        Path target = file.toAbsolutePath();
        createDirectories(target.getParent());
        Path tmp = TempFiles.siblingOf(target);
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                content.writeTo(out);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof RuntimeException r) throw r;
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), (IOException) e);
        }
    }

    /** Writes a JSON document with a streaming generator (for large arrays such as logits). */
    public static void writeJson(Path file, JsonContent content) {
        write(file, out -> {
            try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
                content.writeTo(g);
            }
        });
    }

    /** Writes a value as pretty-printed JSON. */
    public static void writeJson(Path file, Object value) {
        write(file, out -> JSON.writeValue(out, value));
    }

    /** Writes text as UTF-8. */
    public static void writeText(Path file, String text) {
        write(file, out -> out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
