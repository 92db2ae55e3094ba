/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.util.function.IntToDoubleFunction;

/**
 * Reference float-to-16-bit rounding by exhaustive search: among all 16-bit patterns, the one
 * whose value is nearest, ties going to the even pattern, as IEEE 754 round-to-nearest-even
 * defines it. Shares no code with the converters under test; only the (exact) decoding of a
 * pattern is needed.
 */
final class RoundingOracle {
    /** Value of every non-negative pattern up to and including infinity's, which stands at the value one ulp past the largest finite one. */
    private final double[] values;
    private final int infBits;

    private RoundingOracle(IntToDoubleFunction decode, int infBits) {
        this.infBits = infBits;
        values = new double[infBits + 1];
        for (int b = 0; b < infBits; b++) values[b] = decode.applyAsDouble(b);
        values[infBits] = 2 * values[infBits - 1] - values[infBits - 2];
    }

    static final RoundingOracle F16 = new RoundingOracle(b -> Float.float16ToFloat((short) b), 0x7c00);
    static final RoundingOracle BF16 = new RoundingOracle(b -> Float.intBitsToFloat(b << 16), 0x7f80);

    /** The nearest pattern to the non-NaN {@code x}. */
    short round(float x) {
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x8000 : 0;
        double a = Math.abs((double) x);
        int lo = 0, hi = infBits;
        if (a >= values[infBits]) return (short) (sign | infBits);
        // Invariant: values[lo] <= a < values[hi].
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (values[mid] <= a) lo = mid; else hi = mid;
        }
        double below = a - values[lo], above = values[hi] - a;
        int pick = below < above ? lo : above < below ? hi : (lo % 2 == 0 ? lo : hi);
        return (short) (sign | pick);
    }
}
