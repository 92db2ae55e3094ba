/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import io.jsteer.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Generated tokens to text, piece by piece, with stop strings: each new token gives the text that
 * can be shown now. Text that might still become the start of a stop string, or ends in a
 * character whose UTF-8 bytes are incomplete (decoded as U+FFFD), is held back until the next
 * token settles it. The whole sequence is decoded each time, since a token's text depends on its
 * neighbours (merged bytes, SentencePiece's leading space).
 */
final class TextStream {
    private final Tokenizer tokenizer;
    private final List<String> stops;
    private int[] ids = new int[16];
    private int n;
    private String shown = "";
    private boolean stopped;

    TextStream(Tokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = List.copyOf(stops);
    }

    /** Adds a token; returns the text newly safe to show (perhaps empty). */
    String push(int id) {
        if (n == ids.length) ids = Arrays.copyOf(ids, 2 * n);
        ids[n++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, n), true);
        int stopAt = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i;
        }
        if (stopAt >= 0) {
            stopped = true;
            return advance(text.substring(0, Math.max(stopAt, 0)));
        }
        int safe = text.length() - heldBack(text);
        return advance(text.substring(0, safe));
    }

    /** The text held back, once generation ended for another reason than a stop string. */
    String finish() {
        if (stopped) return "";
        return advance(tokenizer.decode(Arrays.copyOf(ids, n), true));
    }

    /** Whether the text reached a stop string (which is not shown). */
    boolean stopped() {
        return stopped;
    }

    /** Everything shown so far. */
    String text() {
        return shown;
    }

    private String advance(String upTo) {
        // decoding more tokens normally only appends; if it rewrote shown text, wait for it to settle
        if (upTo.length() <= shown.length() || !upTo.startsWith(shown)) return "";
        String delta = upTo.substring(shown.length());
        shown = upTo;
        return delta;
    }

    private int heldBack(String text) {
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
                if (text.regionMatches(text.length() - k, s, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        if (text.endsWith("\uFFFD")) hold = Math.max(hold, 1);
        return hold;
    }
}
