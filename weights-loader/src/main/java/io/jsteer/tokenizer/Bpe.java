/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair-encoding model (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with
 * Subword Units"): a word starts as one symbol per character and the adjacent pair with the lowest
 * merge rank is merged repeatedly until no pair has a rule.
 *
 * <p>Each merge step costs O(log n): symbols form a doubly linked list over arrays and candidate
 * pairs sit in a min-heap ordered by (rank, position); entries made stale by an earlier merge are
 * recognised and dropped when popped. This is the algorithm of the reference library's
 * {@code Word::merge_all}, so ties and stale entries resolve identically. Results for short words
 * are cached.
 *
 * <p>A character missing from the vocabulary becomes its UTF-8 bytes as {@code <0xXX>} tokens when
 * {@code byte_fallback} is on (SentencePiece style), else the unknown token (consecutive unknowns
 * fused into one when {@code fuse_unk}), else it is dropped, all as the reference does.
 */
final class Bpe {
    /** Words at least this long (in UTF-16 units) are not cached: they rarely repeat. */
    private static final int MAX_CACHED_LENGTH = 256;
    private static final int CACHE_CAPACITY = 50_000;
    private static final int NONE = -1;

    private final Map<String, Integer> vocab;
    private final String[] tokens;
    private final MergeTable merges;
    /** Id of each BMP character as a one-character token, or NONE. */
    private final int[] charIds;
    /** Ids of the {@code <0xXX>} tokens (NONE where absent), or null without byte fallback. */
    private final int[] byteIds;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab token to id; ids must be distinct and non-negative
     * @param merges pairs of tokens, in rank order
     * @param unkToken the unknown token, or null for none
     * @throws IllegalArgumentException naming the offending entry when the vocabulary or a merge is inconsistent
     */
    Bpe(Map<String, Integer> vocab, List<String[]> merges, String unkToken, boolean byteFallback, boolean fuseUnk,
            boolean ignoreMerges) {
        this.vocab = new HashMap<>(vocab);
        int maxId = -1;
        for (int id : vocab.values()) maxId = Math.max(maxId, id);
        // ids index an array: a huge id in a small file must not cost an array of that size
        if (maxId >= 2L * vocab.size() + 65536) {
            throw new IllegalArgumentException("model.vocab: id " + maxId + " is far beyond the vocabulary's " + vocab.size() + " tokens");
        }
        tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (id < 0) throw new IllegalArgumentException("model.vocab: token '" + e.getKey() + "' has negative id " + id);
            if (tokens[id] != null) {
                throw new IllegalArgumentException("model.vocab: tokens '" + tokens[id] + "' and '" + e.getKey() + "' share id " + id);
            }
            tokens[id] = e.getKey();
        }
        this.merges = new MergeTable(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = merges.get(rank);
            int left = requireToken(pair[0], rank);
            int right = requireToken(pair[1], rank);
            int merged = requireToken(pair[0] + pair[1], rank);
            this.merges.put(left, right, rank, merged);
        }
        charIds = new int[Character.MAX_VALUE + 1];
        Arrays.fill(charIds, NONE);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String t = e.getKey();
            if (t.length() == 1 && !Character.isSurrogate(t.charAt(0))) charIds[t.charAt(0)] = e.getValue();
        }
        if (byteFallback) {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++) byteIds[b] = vocab.getOrDefault(byteToken(b), NONE);
        } else {
            byteIds = null;
        }
        if (unkToken != null && !vocab.containsKey(unkToken)) {
            throw new IllegalArgumentException("model.unk_token '" + unkToken + "' is not in model.vocab");
        }
        unkId = unkToken == null ? NONE : vocab.get(unkToken);
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
    }

    private int requireToken(String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) throw new IllegalArgumentException("model.merges[" + rank + "]: '" + token + "' is not in model.vocab");
        return id;
    }

    /** The SentencePiece name of a byte token, e.g. {@code <0x0A>}. */
    private static String byteToken(int b) {
        return String.format("<0x%02X>", b);
    }

    /** One past the highest id of the model's own vocabulary. */
    int size() {
        return tokens.length;
    }

    /** Number of tokens in the model's vocabulary (less than {@link #size} when ids have gaps). */
    int entries() {
        return vocab.size();
    }

    /** The token with this id, or null. */
    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** The id of this token, or null. */
    Integer id(String token) {
        return vocab.get(token);
    }

    /** Appends the ids of {@code word} (one pre-tokenized piece, non-empty) to {@code out}. */
    void tokenize(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = word.length() < MAX_CACHED_LENGTH;
        int[] ids = cacheable ? cache.get(word) : null;
        if (ids == null) {
            ids = mergeWord(word);
            // Like the reference, stop adding once full rather than evict: hot words arrive early.
            if (cacheable && cache.size() < CACHE_CAPACITY) cache.put(word, ids);
        }
        out.addAll(ids);
    }

    private int[] mergeWord(String word) {
        Symbols symbols = new Symbols(word.length() * 2);
        int pendingUnk = NONE;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int n = Character.charCount(cp);
            int id = n == 1 ? charIds[cp] : vocab.getOrDefault(word.substring(i, i + n), NONE);
            i += n;
            if (id != NONE) {
                if (pendingUnk != NONE) {
                    symbols.add(pendingUnk);
                    pendingUnk = NONE;
                }
                symbols.add(id);
            } else if (addBytes(cp, symbols)) {
                // The reference leaves a pending unknown in place here, so it lands after these bytes.
                continue;
            } else if (unkId != NONE) {
                if (pendingUnk != NONE && !fuseUnk) symbols.add(pendingUnk);
                pendingUnk = unkId;
            }
        }
        if (pendingUnk != NONE) symbols.add(pendingUnk);
        symbols.mergeAll(merges);
        return symbols.ids();
    }

    /** Adds the byte tokens of {@code cp}; false, adding nothing, when byte fallback is off or a byte token is missing. */
    private boolean addBytes(int cp, Symbols symbols) {
        if (byteIds == null) return false;
        byte[] utf8 = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) if (byteIds[b & 0xFF] == NONE) return false;
        for (byte b : utf8) symbols.add(byteIds[b & 0xFF]);
        return true;
    }

    /** The symbols of one word as a linked list over arrays, and the merge loop over them. */
    private static final class Symbols {
        private int[] id;
        private int[] prev;
        private int[] next;
        private boolean[] removed;
        private int count;

        Symbols(int capacity) {
            id = new int[Math.max(4, capacity)];
            prev = new int[id.length];
            next = new int[id.length];
            removed = new boolean[id.length];
        }

        void add(int symbol) {
            if (count == id.length) {
                int n = count * 2;
                id = Arrays.copyOf(id, n);
                prev = Arrays.copyOf(prev, n);
                next = Arrays.copyOf(next, n);
                removed = Arrays.copyOf(removed, n);
            }
            id[count] = symbol;
            prev[count] = count - 1;
            next[count] = NONE;
            if (count > 0) next[count - 1] = count;
            count++;
        }

        void mergeAll(MergeTable merges) {
            MergeHeap queue = new MergeHeap(count);
            for (int pos = 0; pos + 1 < count; pos++) offer(queue, merges, pos, pos + 1);
            while (!queue.isEmpty()) {
                int pos = queue.topPos();
                int mergedId = queue.topMerged();
                queue.pop();
                if (removed[pos] || next[pos] == NONE) continue;
                int right = next[pos];
                int slot = merges.find(id[pos], id[right]);
                // Stale entry: the pair at pos changed since it was queued.
                if (slot == MergeTable.ABSENT || merges.mergedAt(slot) != mergedId) continue;
                id[pos] = mergedId;
                removed[right] = true;
                next[pos] = next[right];
                if (next[right] != NONE) prev[next[right]] = pos;
                if (prev[pos] != NONE) offer(queue, merges, prev[pos], pos);
                if (next[pos] != NONE) offer(queue, merges, pos, next[pos]);
            }
        }

        private void offer(MergeHeap queue, MergeTable merges, int left, int right) {
            int slot = merges.find(id[left], id[right]);
            if (slot != MergeTable.ABSENT) queue.push(merges.rankAt(slot), left, merges.mergedAt(slot));
        }

        int[] ids() {
            int[] out = new int[count];
            int n = 0;
            for (int i = 0; i < count; i++) if (!removed[i]) out[n++] = id[i];
            return Arrays.copyOf(out, n);
        }
    }

    /** Binary min-heap of candidate merges ordered by rank, then by position (leftmost first). */
    private static final class MergeHeap {
        /** rank in the high 32 bits, position in the low 32: one comparison orders both. */
        private long[] order;
        private int[] mergedIds;
        private int size;

        MergeHeap(int capacity) {
            order = new long[Math.max(4, capacity)];
            mergedIds = new int[order.length];
        }

        boolean isEmpty() {
            return size == 0;
        }

        int topPos() {
            return (int) order[0];
        }

        int topMerged() {
            return mergedIds[0];
        }

        void push(int rank, int pos, int mergedId) {
            if (size == order.length) {
                order = Arrays.copyOf(order, size * 2);
                mergedIds = Arrays.copyOf(mergedIds, size * 2);
            }
            long key = ((long) rank << 32) | pos;
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (order[parent] <= key) break;
                order[i] = order[parent];
                mergedIds[i] = mergedIds[parent];
                i = parent;
            }
            order[i] = key;
            mergedIds[i] = mergedId;
        }

        void pop() {
            long key = order[--size];
            int mergedId = mergedIds[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && order[child + 1] < order[child]) child++;
                if (order[child] >= key) break;
                order[i] = order[child];
                mergedIds[i] = mergedIds[child];
                i = child;
            }
            order[i] = key;
            mergedIds[i] = mergedId;
        }
    }
}
