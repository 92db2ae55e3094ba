/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The KV cache over a whole context: it grows in blocks of positions, so sequences are fed
 * here in pieces that cross block boundaries at every offset, up to the model's last position,
 * and must give the logits of one forward pass over the whole sequence. A sequence truncated
 * back to an earlier position must decode as if the tokens after it had never been fed.
 */
class KvCacheTest {
    @ParameterizedTest
    @MethodSource("io.jsteer.tests.Fixtures#models")
    void piecesGiveTheLogitsOfOnePass(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int vocab = model.config().vocabSize(), n = model.config().maxPositions();
        int[] ids = new Random(7).ints(n, 0, vocab).toArray();
        float[] whole = model.forward(model.newState(), ids, true);
        float scale = Math.max(1, Fixtures.maxAbs(whole));

        State s = model.newState();
        for (int round = 0; round < 2; round++) {
            // pieces of 1 to 13 tokens: every position lands at each offset within a block
            float[] pieces = new float[n * vocab];
            for (int at = 0, len = 1; at < n; at += len, len = len % 13 + 1) {
                int[] piece = Arrays.copyOfRange(ids, at, Math.min(n, at + len));
                float[] logits = model.forward(s, piece, true);
                System.arraycopy(logits, 0, pieces, at * vocab, logits.length);
            }
            float err = Fixtures.maxAbsDiff(pieces, whole);
            assertTrue(err <= ForwardReferenceTest.TOLERANCE * scale, name + " round " + round + ": max abs error " + err + " (scale " + scale + ")");
            assertArrayEquals(ForwardReferenceTest.argmax(whole, vocab), ForwardReferenceTest.argmax(pieces, vocab), name + " argmax");
            // the full context is used up; a reset state reuses its cache and must forget it
            assertThrows(IllegalArgumentException.class, () -> model.forward(s, new int[] {0}, false));
            s.reset();
        }
    }

    @ParameterizedTest
    @MethodSource("io.jsteer.tests.Fixtures#models")
    void truncatedStateDecodesAsBefore(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int vocab = model.config().vocabSize(), n = model.config().maxPositions();
        Random random = new Random(11);
        int[] prompt = random.ints(5, 0, vocab).toArray(), first = random.ints(n - 5, 0, vocab).toArray();
        int[] second = random.ints(9, 0, vocab).toArray();

        State s = model.newState();
        model.forward(s, prompt, false);
        float[] expected = model.forward(s, second, true);
        // fill the context past the truncation point, then take it back to the prompt
        s.truncate(prompt.length);
        model.forward(s, first, false);
        assertEquals(n, s.length());
        s.truncate(prompt.length);
        assertEquals(prompt.length, s.length());
        assertEquals(prompt.length, s.promptLength());
        assertArrayEquals(expected, model.forward(s, second, true), name + ": same logits after truncation");

        assertThrows(IllegalArgumentException.class, () -> s.truncate(-1));
        assertThrows(IllegalArgumentException.class, () -> s.truncate(s.length() + 1));
        s.truncate(2);
        assertEquals(2, s.promptLength());
        s.truncate(0);
        assertEquals(-1, s.promptLength());
    }
}
