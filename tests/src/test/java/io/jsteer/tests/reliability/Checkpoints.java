/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.tests.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Copies of the fixture checkpoints to damage in tests, edited byte by byte (independent of the reader under test). */
final class Checkpoints {
    private Checkpoints() {}

    /** Copies fixture {@code model}'s config, weights and tokenizer (when present) into {@code dir}. */
    static Path copy(String model, Path dir) {
        try {
            Files.createDirectories(dir);
            for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
                Path src = Fixtures.dir(model).resolve(f);
                if (Files.exists(src)) Files.copy(src, dir.resolve(f));
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Overwrites element {@code index} of the F32 tensor {@code name} in {@code dir/model.safetensors} with {@code value}. */
    static void poison(Path dir, String name, long index, float value) {
        Path file = dir.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            int headerLength = (int) len.getLong(0);
            ByteBuffer header = ByteBuffer.allocate(headerLength);
            ch.read(header, 8);
            JsonNode entry = Fixtures.JSON.readTree(new String(header.array(), StandardCharsets.UTF_8)).get(name);
            if (entry == null || !entry.get("dtype").asText().equals("F32")) throw new IllegalArgumentException("no F32 tensor " + name);
            long at = 8 + headerLength + entry.get("data_offsets").get(0).asLong() + 4 * index;
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value), at);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code text} to {@code file}. */
    static Path write(Path file, String text) {
        try {
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A tiny byte-level BPE tokenizer.json (14 tokens), for models whose embedding has more rows. */
    static String tinyTokenizer() {
        try (var in = Checkpoints.class.getResourceAsStream("/fuzz/tiny-bytelevel.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
