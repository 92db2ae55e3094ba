/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** Builds safetensors files byte by byte, so tests control every field the reader validates. */
final class RawFiles {
    private RawFiles() {}

    /** An 8-byte little-endian {@code headerLength}, then {@code header}, then {@code dataBytes} zero bytes. */
    static byte[] safetensors(long headerLength, byte[] header, int dataBytes) {
        return ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(headerLength).put(header).array();
    }

    /** A well-framed file whose JSON header is {@code json}, followed by {@code dataBytes} zero bytes. */
    static byte[] safetensors(String json, int dataBytes) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return safetensors(h.length, h, dataBytes);
    }

    static Path write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static Path write(Path file, String text) {
        return write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Runs {@code action}, expects a {@link WeightsException} and checks that its message names {@code file} and holds each fragment. */
    static String assertWeightsError(Path file, Executable action, String... fragments) {
        WeightsException e = assertThrows(WeightsException.class, action);
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.toString() + ": "), () -> "message does not start with the file " + file + ": " + msg);
        for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks \"" + f + "\": " + msg);
        return msg;
    }
}
