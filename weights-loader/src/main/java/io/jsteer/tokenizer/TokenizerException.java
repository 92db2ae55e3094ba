/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.nio.file.Path;

/** A tokenizer file is unusable: the message names the file, where in it the problem is, and what it is. */
public class TokenizerException extends RuntimeException {
    /** A problem with the tokenizer file {@code file}, described by {@code message}. */
    public TokenizerException(Path file, String message) {
        super(file + ": " + message);
    }

    /** A problem with the tokenizer file {@code file} caused by {@code cause}. */
    public TokenizerException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
