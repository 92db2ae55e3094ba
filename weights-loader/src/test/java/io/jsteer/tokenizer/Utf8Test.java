/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/**
 * Lenient UTF-8 decoding against the examples of The Unicode Standard 16.0, §3.9, Tables 3-8 to
 * 3-11 ("U+FFFD Substitution of Maximal Subparts"), which Rust's {@code from_utf8_lossy} follows.
 */
class Utf8Test {
    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (byte) values[i];
        return out;
    }

    private static String fffd(int n) {
        return "\uFFFD".repeat(n);
    }

    @Test
    void maximalSubpartsBecomeOneReplacementEach() {
        // Table 3-8
        assertEquals("a" + fffd(3) + "b" + fffd(1) + "c" + fffd(2) + "d",
                Utf8.decodeLossy(bytes(0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64)));
        // Table 3-9: non-shortest forms
        assertEquals(fffd(8) + "A", Utf8.decodeLossy(bytes(0xC0, 0xAF, 0xE0, 0x80, 0xBF, 0xF0, 0x81, 0x82, 0x41)));
        // Table 3-10: encoded surrogates
        assertEquals(fffd(8) + "A", Utf8.decodeLossy(bytes(0xED, 0xA0, 0x80, 0xED, 0xBF, 0xBF, 0xED, 0xAF, 0x41)));
        // Table 3-11: beyond U+10FFFF and stray bytes
        assertEquals(fffd(5) + "A" + fffd(2) + "B", Utf8.decodeLossy(bytes(0xF4, 0x91, 0x92, 0x93, 0xFF, 0x41, 0x80, 0xBF, 0x42)));
        // Table 3-12: truncated sequences
        assertEquals(fffd(4) + "A", Utf8.decodeLossy(bytes(0xE1, 0x80, 0xE2, 0xF0, 0x91, 0x92, 0xF1, 0xBF, 0x41)));
    }

    @Test
    void wellFormedInputDecodesExactly() {
        String text = "aé€😀\u0000\uFFFD";
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(text, Utf8.decodeLossy(utf8));
        assertEquals(text, Utf8.decodeStrict(utf8, utf8.length));
        assertEquals(-1, Utf8.firstInvalidOffset(utf8));
    }

    @Test
    void strictDecodingRefusesAnyDefect() {
        assertNull(Utf8.decodeStrict(bytes(0x61, 0xC3), 2));
        assertEquals("a", Utf8.decodeStrict(bytes(0x61, 0xC3), 1));
        assertEquals(2, Utf8.firstInvalidOffset(bytes(0x61, 0x62, 0xED, 0xA0, 0x80)));
    }

    @Test
    void textWithUnpairedSurrogatesBecomesWhatTheReferenceReceives() {
        String wellFormed = "ok 😀 \u0000";
        assertSame(wellFormed, Utf8.asReferenceSeesIt(wellFormed));
        // JNI modified UTF-8: a surrogate is 3 bytes (ED xx xx, never valid UTF-8), NUL is C0 80.
        assertEquals("a" + fffd(3) + "b", Utf8.asReferenceSeesIt("a\uD800b"));
        assertEquals(fffd(3) + " " + fffd(6) + " " + fffd(2), Utf8.asReferenceSeesIt("\uDC00 😀 \u0000"));
    }
}
