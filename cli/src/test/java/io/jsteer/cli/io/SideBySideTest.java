/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SideBySideTest {
    @Test
    void wrapsWordsToTheWidthAndCutsLongOnes() {
        assertEquals(List.of("the quick", "brown fox"), SideBySide.wrap("the quick brown fox", 10));
        assertEquals(List.of("abcdefghij", "klm x"), SideBySide.wrap("abcdefghijklm x", 10));
        assertEquals(List.of("ab", "abcdefghij", "k"), SideBySide.wrap("ab abcdefghijk", 10));
        assertEquals(List.of("a", "b"), SideBySide.wrap("a\nb", 10));
    }

    @Test
    void laysTextsOutInTitledColumns() {
        String out = SideBySide.render(List.of("left", "right"), List.of("one two three", "four"), 23);
        assertEquals(String.join("\n", "left       | right", "---------- | ----------", "one two    | four", "three      |", ""), out);
    }
}
