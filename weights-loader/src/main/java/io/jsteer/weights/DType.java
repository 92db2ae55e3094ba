/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element types a checkpoint may store. Compute is always float32; these are storage formats.
 *
 * <p>F32, F16 and BF16 store each element on its own. The others are ggml's block formats
 * (ggml-common.h): a row is cut into blocks of {@link #blockSize()} elements, each stored in
 * {@link #blockBytes()} bytes as small integers with one or more float16 scales, and decoded by
 * {@link Quants}. A row of such a tensor is always a whole number of blocks.
 */
public enum DType {
    /** IEEE 754 single precision. */
    F32(4, 1, 4, 0),
    /** IEEE 754 half precision. */
    F16(2, 1, 2, 1),
    /** bfloat16: the upper half of a float32. */
    BF16(2, 1, 2, 30),
    /** 32 elements: float16 scale d, 32 int8 q; x = d q. */
    Q8_0(0, 32, 34, 8),
    /** 32 elements: float16 scale d, 16 bytes of 4-bit q (low nibbles elements 0-15, high 16-31); x = d (q - 8). */
    Q4_0(0, 32, 18, 2),
    /**
     * 32 elements: float16 scale d, 32 fifth bits {@code qh}, 16 bytes of 4-bit q as Q4_0; x = d (q - 16).
     * llama-quantize writes it for Q4_K/Q5_K tensors whose rows are not a multiple of 256 long.
     */
    Q5_0(0, 32, 22, 6),
    /** 256 elements in 8 sub-blocks of 32 with 6-bit scales and mins; x = d sc q - dmin m, q 4-bit. */
    Q4_K(0, 256, 144, 12),
    /** As Q4_K with a fifth bit of q from {@code qh}. */
    Q5_K(0, 256, 176, 13),
    /** 256 elements in 16 sub-blocks of 16 with int8 scales; x = d sc (q - 32), q 6-bit. */
    Q6_K(0, 256, 210, 14);

    private final int bytes, blockSize, blockBytes, ggmlType;

    DType(int bytes, int blockSize, int blockBytes, int ggmlType) {
        this.bytes = bytes;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.ggmlType = ggmlType;
    }

    /** Size of one element in bytes; only for the types that store elements one by one. */
    public int bytes() {
        if (isQuantized()) throw new UnsupportedOperationException(this + " stores blocks of " + blockSize + " elements, not single elements");
        return bytes;
    }

    /** Whether this is a block format (elements are stored in groups sharing a scale). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Elements per block (1 for F32, F16, BF16). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Bytes of {@code elements} consecutive elements, which must be a whole number of blocks. */
    public long bytesOf(long elements) {
        if (elements % blockSize != 0) throw new IllegalArgumentException(elements + " elements are not a whole number of " + this + " blocks of " + blockSize);
        return elements / blockSize * blockBytes;
    }

    /** ggml's type id ({@code enum ggml_type}), as GGUF files store it. */
    public int ggmlType() {
        return ggmlType;
    }

    /** The type of ggml id {@code id}, or null if it is not one of these. */
    public static DType fromGgml(long id) {
        for (DType t : values()) if (t.ggmlType == id) return t;
        return null;
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
        return Arrays.stream(values()).filter(t -> !t.isQuantized()).map(DType::name).collect(Collectors.joining(", "));
    }
}
