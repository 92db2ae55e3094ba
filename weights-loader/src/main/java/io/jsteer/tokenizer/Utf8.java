/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * UTF-8 decoding with the exact replacement rules of the reference tokenizers library (Rust).
 *
 * <p>The JDK's own lenient decoder is not used because it sometimes emits one U+FFFD where Rust's
 * {@code String::from_utf8_lossy} emits several (e.g. for an encoded surrogate {@code ED A0 80}),
 * and decoded text must match the reference character for character.
 */
final class Utf8 {
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {}

    /**
     * Decodes {@code bytes}, replacing each maximal invalid subpart with one U+FFFD (Unicode
     * 16.0 §3.9 "U+FFFD Substitution of Maximal Subparts", which is what {@code from_utf8_lossy} does).
     */
    static String decodeLossy(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        decode(bytes, bytes.length, sb, true);
        return sb.toString();
    }

    /** The text of {@code bytes[0, length)}, or null when those bytes are not well-formed UTF-8. */
    static String decodeStrict(byte[] bytes, int length) {
        StringBuilder sb = new StringBuilder(length);
        return decode(bytes, length, sb, false) < 0 ? sb.toString() : null;
    }

    /** Offset of the first byte of the first ill-formed sequence in {@code bytes}, or -1 when all is well-formed. */
    static int firstInvalidOffset(byte[] bytes) {
        return decode(bytes, bytes.length, null, false);
    }

    /**
     * Decodes {@code bytes[0, to)} into {@code out} (skipped when null). Unless {@code lossy}, stops
     * at the first ill-formed subpart and returns its offset; otherwise replaces each and returns -1.
     */
    private static int decode(byte[] bytes, int to, StringBuilder out, boolean lossy) {
        int i = 0;
        while (i < to) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                if (out != null) out.append((char) b0);
                i++;
                continue;
            }
            int need = 0;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) lo = 0xA0;
                if (b0 == 0xED) hi = 0x9F;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) lo = 0x90;
                if (b0 == 0xF4) hi = 0x8F;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            int got = 0;
            while (need > 0 && got < need && j < to) {
                int b = bytes[j] & 0xFF;
                // Only the second byte has a narrowed range; later ones are plain continuation bytes.
                if (got == 0 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
                cp = (cp << 6) | (b & 0x3F);
                j++;
                got++;
            }
            if (need > 0 && got == need) {
                if (out != null) out.appendCodePoint(cp);
            } else if (lossy) {
                if (out != null) out.append(REPLACEMENT);
            } else {
                return i;
            }
            i = j;
        }
        return -1;
    }

    /**
     * The text the reference library sees for a Java string.
     *
     * <p>Well-formed UTF-16 passes through unchanged. A string with an unpaired surrogate is not
     * Unicode text; the JNI bridge of the reference hands it over as JNI "modified UTF-8" decoded
     * leniently, so every surrogate of such a string (paired or not) becomes three U+FFFD and every
     * NUL two. Reproducing that keeps token ids identical for such input as well.
     */
    static String asReferenceSeesIt(String text) {
        if (isWellFormed(text)) return text;
        ByteArrayOutputStream modified = new ByteArrayOutputStream(text.length() * 3);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != 0 && c < 0x80) {
                modified.write(c);
            } else if (c < 0x800) {
                modified.write(0xC0 | (c >> 6));
                modified.write(0x80 | (c & 0x3F));
            } else {
                modified.write(0xE0 | (c >> 12));
                modified.write(0x80 | ((c >> 6) & 0x3F));
                modified.write(0x80 | (c & 0x3F));
            }
        }
        return decodeLossy(modified.toByteArray());
    }

    /** Whether {@code s} has no unpaired surrogate. */
    static boolean isWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
