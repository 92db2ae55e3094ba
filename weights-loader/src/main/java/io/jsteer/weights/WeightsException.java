/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.nio.file.Path;

/**
 * A checkpoint file is unusable: the message names the file, the tensor when there is one, and
 * what is wrong with it.
 */
public class WeightsException extends RuntimeException {
    /** A problem with {@code file} as a whole, e.g. a malformed header. */
    public WeightsException(Path file, String message) {
        super(file + ": " + message);
    }

    /** A problem with one tensor of {@code file}, named in the message. */
    public WeightsException(Path file, String tensor, String message) {
        super(file + ": tensor '" + tensor + "': " + message);
    }

    /** A problem with {@code file} caused by {@code cause}, e.g. an I/O error. */
    public WeightsException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }

    /**
     * What went wrong reading a file, in words and without Java class names: a parser's message
     * with its line and column, "not UTF-8 text" for a decoding failure, the system's reason for a
     * file-system failure.
     */
    public static String describe(java.io.IOException e) {
        if (e instanceof com.fasterxml.jackson.core.JacksonException j) {
            var at = j.getLocation();
            return j.getOriginalMessage() + (at == null || at.getLineNr() < 0 ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
        }
        if (e instanceof java.io.CharConversionException || e instanceof java.nio.charset.CharacterCodingException) return "not UTF-8 text";
        if (e instanceof java.nio.file.FileSystemException f) return f.getReason() != null ? f.getReason() : "the file system refused access";
        return e.getMessage() != null ? e.getMessage() : "input/output error";
    }
}
