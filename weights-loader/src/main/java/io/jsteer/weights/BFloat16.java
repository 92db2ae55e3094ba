/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

/**
 * bfloat16: the upper 16 bits of an IEEE-754 float32 (1 sign, 8 exponent, 7 mantissa bits). The
 * JDK has {@link Float#floatToFloat16} for IEEE half precision but nothing for this format.
 */
public final class BFloat16 {
    private BFloat16() {}

    /** The float32 this bfloat16 bit pattern denotes (exact: widening loses nothing). */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * The nearest bfloat16, ties to even, as PyTorch and the safetensors converters round.
     * Overflow gives infinity; NaN stays a (quiet) NaN of the same sign instead of rounding its
     * payload into infinity.
     */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        // Adding 0x7fff plus the lowest kept bit carries into the kept bits exactly when the
        // dropped half is above one half ulp, or exactly one half and the kept value is odd.
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
