/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Element types a checkpoint may store. Compute is always float32; these are storage formats. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The safetensors header spelling ("F32", "F16", "BF16"), or null if the type is not supported. */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> null;
        };
    }

    /** The supported spellings, comma separated, for error messages. */
    public static String supported() {
        return Arrays.stream(values()).map(DType::name).collect(Collectors.joining(", "));
    }
}
