/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jsteer.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class WordSetTest {
    /** A vocabulary where only some spellings are single tokens; everything else splits per character. */
    static final Tokenizer TOY = new Tokenizer() {
        final Map<String, Integer> single = Map.of("joy", 10, " joy", 11, " Joy", 12, " glad", 20);

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            Integer id = single.get(text);
            return id != null ? new int[] {id} : text.chars().map(c -> 100 + c).toArray();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int vocabSize() {
            return 300;
        }

        @Override
        public String token(int id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public OptionalInt id(String token) {
            return OptionalInt.empty();
        }

        @Override
        public boolean isSpecial(int id) {
            return false;
        }

        @Override
        public OptionalInt bosId() {
            return OptionalInt.empty();
        }

        @Override
        public OptionalInt eosId() {
            return OptionalInt.empty();
        }
    };

    @Test
    void collectsSingleTokenSpellingsAndNamesTheRest() {
        WordSet w = WordSet.of("joy", TOY, List.of("joy", "glad", "elated"));
        assertArrayEquals(new int[] {10, 11, 12, 20}, w.ids());
        assertEquals(List.of("elated"), w.unmatched());
    }

    @Test
    void noSingleTokenWordIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> WordSet.of("calm", TOY, List.of("serene")));
        assertEquals("word set 'calm': none of [serene] is a single token in this vocabulary", e.getMessage());
    }

    @Test
    void idsAreDistinctAndSorted() {
        assertArrayEquals(new int[] {1, 5, 9}, WordSet.ofIds("x", 9, 1, 5, 1).ids());
    }
}
