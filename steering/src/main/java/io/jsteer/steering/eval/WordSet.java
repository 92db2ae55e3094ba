/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The token ids that stand for a set of behaviour words (e.g. {@code love, joy, wonderful}).
 *
 * @param name      name of the behaviour, used as the measure name
 * @param ids       distinct token ids, ascending
 * @param unmatched words that are no single token in any spelling tried, hence not counted
 */
public record WordSet(String name, int[] ids, List<String> unmatched) {
    public WordSet {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("word set needs a name");
        if (ids == null || ids.length == 0) throw new IllegalArgumentException("word set '" + name + "' has no token ids");
        ids = Arrays.stream(ids).distinct().sorted().toArray();
        unmatched = List.copyOf(unmatched);
    }

    /** A word set given directly as token ids. */
    public static WordSet ofIds(String name, int... ids) {
        return new WordSet(name, ids, List.of());
    }

    /**
     * The single-token spellings of each word: as is, with a leading space, capitalised, and
     * capitalised with a leading space. Multi-token spellings are left out, because counting only
     * their first piece (often a common prefix) would credit unrelated words.
     */
    public static WordSet of(String name, Tokenizer tokenizer, List<String> words) {
        TreeSet<Integer> ids = new TreeSet<>();
        List<String> unmatched = new ArrayList<>();
        for (String w : words) {
            String word = w.strip();
            if (word.isEmpty()) throw new IllegalArgumentException("word set '" + name + "' contains an empty word");
            String cap = word.substring(0, 1).toUpperCase(Locale.ROOT) + word.substring(1);
            boolean any = false;
            for (String spelling : new String[] {word, " " + word, cap, " " + cap}) {
                int[] t = tokenizer.encode(spelling);
                if (t.length == 1) {
                    ids.add(t[0]);
                    any = true;
                }
            }
            if (!any) unmatched.add(word);
        }
        if (ids.isEmpty()) throw new IllegalArgumentException("word set '" + name + "': none of " + words + " is a single token in this vocabulary");
        return new WordSet(name, ids.stream().mapToInt(Integer::intValue).toArray(), unmatched);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }
}
