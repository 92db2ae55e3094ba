/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tokenizer.Tokenizer;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Stop strings and held-back text, on a tokenizer whose tokens are given strings. */
class TextStreamTest {
    /** Token {@code i} is {@code pieces[i]}; id 0 is a special token that decodes to nothing when skipped. */
    record Pieces(String... pieces) implements Tokenizer {
        public int[] encode(String text, boolean addSpecialTokens) {
            throw new UnsupportedOperationException();
        }

        public String decode(int[] ids, boolean skipSpecialTokens) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) if (!(skipSpecialTokens && id == 0)) b.append(pieces[id]);
            return b.toString();
        }

        public int vocabSize() {
            return pieces.length;
        }

        public String token(int id) {
            return pieces[id];
        }

        public OptionalInt id(String token) {
            return OptionalInt.empty();
        }

        public boolean isSpecial(int id) {
            return id == 0;
        }

        public OptionalInt bosId() {
            return OptionalInt.empty();
        }

        public OptionalInt eosId() {
            return OptionalInt.of(0);
        }
    }

    static final Pieces T = new Pieces("<eos>", "Hello", " wor", "ld", " EN", "D", "\uFFFD", "é", "!");

    @Test
    void textFlowsThroughWithoutStops() {
        TextStream s = new TextStream(T, List.of());
        assertEquals("Hello", s.push(1));
        assertEquals(" wor", s.push(2));
        assertEquals("ld", s.push(3));
        assertEquals("", s.finish());
        assertEquals("Hello world", s.text());
    }

    @Test
    void aStopStringAcrossTokensIsHeldBackThenCut() {
        TextStream s = new TextStream(T, List.of(" END"));
        assertEquals("Hello", s.push(1));
        assertEquals("", s.push(4), "' EN' could start ' END': held back");
        assertEquals("", s.push(5));
        assertTrue(s.stopped());
        assertEquals("Hello", s.text());
        assertEquals("", s.finish());
    }

    @Test
    void heldBackTextIsReleasedWhenItDoesNotBecomeAStop() {
        TextStream s = new TextStream(T, List.of(" END"));
        s.push(1);
        assertEquals("", s.push(4));
        assertEquals(" EN!", s.push(8));
        assertFalse(s.stopped());
        s.push(4);
        assertEquals(" EN", s.finish(), "at the end nothing is held back");
        assertEquals("Hello EN! EN", s.text());
    }

    @Test
    void anIncompleteCharacterWaitsForTheNextToken() {
        TextStream s = new TextStream(T, List.of());
        assertEquals("Hello", s.push(1));
        assertEquals("", s.push(6));
        assertEquals("\uFFFD", s.finish(), "at the end it is shown as it is");
    }

    @Test
    void theEarliestStopWins() {
        TextStream s = new TextStream(T, List.of("ld", "wor"));
        s.push(1);
        s.push(2);
        assertTrue(s.stopped());
        assertEquals("Hello ", s.text());
    }
}
