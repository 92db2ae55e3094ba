/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DecodingTest {
    static final float[] LOGITS = {0.3f, 0.1f, 0.2f, 0.25f, 0.0f, 0.15f};

    static int[] draws(Decoding d, int item) {
        var s = d.sampler(item);
        return IntStream.range(0, 40).map(i -> s.next(LOGITS)).toArray();
    }

    @Test
    void eachItemHasItsOwnRepeatableStream() {
        Decoding d = Decoding.sampled(5, 1.0, 11);
        assertEquals(Arrays.toString(draws(d, 3)), Arrays.toString(draws(d, 3)));
        assertNotEquals(Arrays.toString(draws(d, 3)), Arrays.toString(draws(d, 4)));
    }

    @Test
    void greedyTakesTheArgmax() {
        assertEquals(0, Decoding.greedy(1).sampler(7).next(LOGITS));
    }

    @Test
    void badSettingsAreRejected() {
        assertEquals("maxNewTokens must be >= 1, got 0", assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(0)).getMessage());
        assertEquals("sampling temperature must be > 0, got 0.0", assertThrows(IllegalArgumentException.class, () -> Decoding.sampled(3, 0, 1)).getMessage());
        assertEquals("top-p must be in (0, 1] (1 = off), got 1.5", assertThrows(IllegalArgumentException.class, () -> new Decoding(3, 1, 0, 1.5, 1)).getMessage());
    }
}
