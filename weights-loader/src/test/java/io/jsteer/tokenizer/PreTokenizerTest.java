/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Pre-tokenizers on the examples of the reference's own tests and on Unicode white space. */
class PreTokenizerTest {
    private static List<String> split(PreTokenizer p, String text) {
        List<String> out = new ArrayList<>();
        p.split(text, out);
        return out;
    }

    @Test
    void splitBehaviorsAsInTheReferenceTests() {
        // tokenizers/src/pre_tokenizers/split.rs, test "basic": the pattern matches words and punctuation, inverted.
        Pattern words = Regexes.compile("\\w+|[^\\w\\s]+");
        String text = "How are you doing?";
        assertEquals(List.of("How", "are", "you", "doing", "?"),
                split(new PreTokenizer.Split(words, PreTokenizer.Behavior.REMOVED, true), text));
        assertEquals(List.of("How", " ", "are", " ", "you", " ", "doing", "?"),
                split(new PreTokenizer.Split(words, PreTokenizer.Behavior.ISOLATED, true), text));
        assertEquals(List.of("How ", "are ", "you ", "doing", "?"),
                split(new PreTokenizer.Split(words, PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, true), text));
        assertEquals(List.of("How", " are", " you", " doing", "?"),
                split(new PreTokenizer.Split(words, PreTokenizer.Behavior.MERGED_WITH_NEXT, true), text));
        assertEquals(List.of("How", " ", "are", " ", "you", " ", "doing?"),
                split(new PreTokenizer.Split(words, PreTokenizer.Behavior.CONTIGUOUS, true), text));
    }

    @Test
    void literalSplitMergedWithPrevious() {
        PreTokenizer split = new PreTokenizer.Split(Pattern.compile(Pattern.quote(" ")), PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, false);
        // A match only joins a preceding non-match: the second of two spaces stands alone.
        assertEquals(List.of(" ", " ", "a ", " ", "b"), split(split, "  a  b"));
    }

    @Test
    void byteLevelSplitsOnUnicodeWhiteSpace() {
        PreTokenizer byteLevel = new PreTokenizer.ByteLevelSplit(false, true);
        assertEquals(List.of("Hello", "\u0120world", "!"), split(byteLevel, "Hello world!"));
        assertEquals(List.of("I", "'m", "\u0120fine"), split(byteLevel, "I'm fine"));
        // U+00A0 is White_Space: "\s+(?!\S)" takes the first, "\s+" the second (C2 A0 is "Âł").
        assertEquals(List.of("a", "\u00c2\u0142", "\u00c2\u0142", "b"), split(byteLevel, "a\u00a0\u00a0b"));
        // U+200B is not White_Space, so both form one punctuation-like run (E2 80 8B is "âĢĭ").
        assertEquals(List.of("a", "\u00e2\u0122\u012d\u00e2\u0122\u012d", "b"), split(byteLevel, "a\u200b\u200bb"));
        assertEquals(List.of("\u0120x"), split(new PreTokenizer.ByteLevelSplit(true, true), "x"));
    }
}
