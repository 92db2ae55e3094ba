/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge rules as a map from a symbol pair {@code (left id, right id)} to its rank (position in
 * the merges list, lower merges first) and the id of the merged symbol.
 *
 * <p>Open addressing over primitive arrays: Gemma has over half a million merges, which as boxed
 * {@code HashMap} entries would cost several times the memory and a pointer chase per lookup.
 */
final class MergeTable {
    static final int ABSENT = -1;

    private final long[] keys;
    private final int[] ranks;
    private final int[] merged;
    private final int mask;
    private int size;

    MergeTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        merged = new int[capacity];
        mask = capacity - 1;
        Arrays.fill(ranks, ABSENT);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h >>> 40) & mask;
        while (ranks[i] != ABSENT && keys[i] != key) i = (i + 1) & mask;
        return i;
    }

    /** Adds or replaces a rule: as in the reference, a pair listed twice keeps its last rank. */
    void put(int left, int right, int rank, int mergedId) {
        if (size * 2 >= keys.length) throw new IllegalStateException("merge table sized for fewer rules");
        long k = key(left, right);
        int i = slot(k);
        if (ranks[i] == ABSENT) size++;
        keys[i] = k;
        ranks[i] = rank;
        merged[i] = mergedId;
    }

    /** Slot of the rule for this pair, or {@link #ABSENT}; read it with {@link #rankAt} and {@link #mergedAt}. */
    int find(int left, int right) {
        int i = slot(key(left, right));
        return ranks[i] == ABSENT ? ABSENT : i;
    }

    /** Rank of the rule in {@code slot}: lower ranks merge first. */
    int rankAt(int slot) {
        return ranks[slot];
    }

    /** Id of the symbol that the rule in {@code slot} produces. */
    int mergedAt(int slot) {
        return merged[slot];
    }

    int size() {
        return size;
    }
}
