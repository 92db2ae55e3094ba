/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli;

/**
 * A problem with what the user asked for (a missing file, an incompatible option), reported as
 * one line without the hint to rerun with {@code --verbose}.
 */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
