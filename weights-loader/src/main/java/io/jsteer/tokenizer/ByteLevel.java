/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level alphabet (Radford et al. 2019, {@code bytes_to_unicode} in openai/gpt-2
 * {@code encoder.py}): every byte maps to one printable character, so BPE over these characters
 * covers any byte string with a 256-symbol base vocabulary.
 *
 * <p>Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) map to themselves; the other
 * 68 bytes map, in increasing order, to U+0100, U+0101, ... .
 */
final class ByteLevel {
    /**
     * GPT-2's pre-tokenization regex. The reference runs it with Oniguruma, whose {@code \s} is the
     * Unicode White_Space property; Java needs UNICODE_CHARACTER_CLASS for the same meaning.
     */
    static final Pattern GPT2_SPLIT = Regexes.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Inverse of {@link #BYTE_TO_CHAR}; -1 for characters outside the alphabet. */
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The UTF-8 bytes of {@code text}, each written as its alphabet character. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        return new String(out);
    }

    /**
     * Appends the bytes {@code token} stands for. A token with a character outside the alphabet (an
     * added token such as a run of spaces) stands for its own UTF-8 bytes, as in the reference.
     */
    static void appendBytes(String token, ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                out.writeBytes(token.getBytes(StandardCharsets.UTF_8));
                return;
            }
        }
        for (int i = 0; i < token.length(); i++) out.write(CHAR_TO_BYTE[token.charAt(i)]);
    }
}
