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
    public WeightsException(Path file, String message) {
        super(file + ": " + message);
    }

    public WeightsException(Path file, String tensor, String message) {
        super(file + ": tensor '" + tensor + "': " + message);
    }

    public WeightsException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
