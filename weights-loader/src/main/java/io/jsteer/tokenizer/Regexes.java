/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Compiles the Oniguruma-syntax patterns found in tokenizer.json files to Java patterns with the same meaning. */
final class Regexes {
    private Regexes() {}

    /**
     * Oniguruma (used by the reference) matches {@code \s}, {@code \w}, {@code \d} and case-insensitive
     * groups by Unicode properties; Java does so only with UNICODE_CHARACTER_CLASS.
     *
     * @throws PatternSyntaxException when Java cannot compile the pattern
     */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }
}
