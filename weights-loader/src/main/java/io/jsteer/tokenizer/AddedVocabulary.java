/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Tokens defined outside the model (tokenizer.json {@code added_tokens}): control tokens such as
 * {@code <bos>} or {@code <|endoftext|>}, and plain extra tokens such as runs of spaces. They are cut
 * out of the text before the model sees it, so the model never splits them.
 *
 * <p>As in the reference, matching is leftmost-longest: at the first position where any added token
 * starts, the longest one starting there wins. Tokens with {@code normalized = false} are matched in
 * the raw text, the others in the normalized remainder.
 */
final class AddedVocabulary {
    /** One entry of {@code added_tokens}. */
    record AddedToken(int id, String content, boolean special, boolean normalized) {}

    /** Receives the text between added tokens and the ids of the added tokens, in order. */
    interface Sink {
        void text(String piece);

        void token(int id);
    }

    private final Map<Integer, String> contentById = new HashMap<>();
    private final Map<String, Integer> idByContent = new HashMap<>();
    private final Set<String> special = new HashSet<>();
    private final Trie raw;
    private final Trie normalizedTrie;

    /** @throws IllegalArgumentException when two entries share a content or an id */
    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        Map<String, Integer> rawPatterns = new HashMap<>();
        Map<String, Integer> normalizedPatterns = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            AddedToken t = tokens.get(i);
            String where = "added_tokens[" + i + "]";
            if (t.content().isEmpty()) throw JsonSpec.bad(where + ".content", "empty token");
            if (idByContent.putIfAbsent(t.content(), t.id()) != null) {
                throw JsonSpec.bad(where, "token '" + t.content() + "' is defined twice");
            }
            if (contentById.putIfAbsent(t.id(), t.content()) != null) {
                throw JsonSpec.bad(where, "id " + t.id() + " is used by '" + contentById.get(t.id()) + "' and '" + t.content() + "'");
            }
            if (t.special()) special.add(t.content());
            if (t.normalized()) {
                String pattern = normalizer.normalize(t.content());
                if (!pattern.isEmpty()) normalizedPatterns.put(pattern, t.id());
            } else {
                rawPatterns.put(t.content(), t.id());
            }
        }
        raw = new Trie(rawPatterns);
        normalizedTrie = new Trie(normalizedPatterns);
    }

    /** Content of the added token with this id, or null. */
    String content(int id) {
        return contentById.get(id);
    }

    /** Id of the added token with this content, or null. */
    Integer id(String content) {
        return idByContent.get(content);
    }

    boolean isSpecial(String content) {
        return special.contains(content);
    }

    /** Highest added id, or -1 when there are none. */
    int maxId() {
        return contentById.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    /** Splits raw text around the added tokens matched before normalization. */
    void splitRaw(String text, Sink sink) {
        raw.split(text, sink);
    }

    /** Splits normalized text around the added tokens matched after normalization. */
    void splitNormalized(String text, Sink sink) {
        normalizedTrie.split(text, sink);
    }

    /** A character trie of the token contents; matching walks it from each start position. */
    private static final class Trie {
        private final Node root;

        Trie(Map<String, Integer> patterns) {
            Builder b = new Builder();
            patterns.forEach(b::add);
            root = b.build();
        }

        void split(String text, Sink sink) {
            int start = 0;
            int i = 0;
            while (i < text.length()) {
                int end = -1;
                int id = -1;
                Node n = root;
                for (int j = i; j < text.length() && (n = n.child(text.charAt(j))) != null; j++) {
                    if (n.id >= 0) {
                        end = j + 1;
                        id = n.id;
                    }
                }
                if (end < 0) {
                    i++;
                    continue;
                }
                if (i > start) sink.text(text.substring(start, i));
                sink.token(id);
                start = i = end;
            }
            if (start < text.length()) sink.text(text.substring(start));
        }

        private static final class Node {
            final char[] keys;
            final Node[] children;
            final int id;

            Node(char[] keys, Node[] children, int id) {
                this.keys = keys;
                this.children = children;
                this.id = id;
            }

            Node child(char c) {
                int lo = 0;
                int hi = keys.length - 1;
                while (lo <= hi) {
                    int mid = (lo + hi) >>> 1;
                    if (keys[mid] < c) lo = mid + 1;
                    else if (keys[mid] > c) hi = mid - 1;
                    else return children[mid];
                }
                return null;
            }
        }

        /** Mutable trie, frozen into sorted arrays for lookup by binary search. */
        private static final class Builder {
            final TreeMap<Character, Builder> children = new TreeMap<>();
            int id = -1;

            void add(String content, int tokenId) {
                Builder b = this;
                for (int i = 0; i < content.length(); i++) b = b.children.computeIfAbsent(content.charAt(i), c -> new Builder());
                b.id = tokenId;
            }

            Node build() {
                char[] keys = new char[children.size()];
                Node[] nodes = new Node[children.size()];
                int k = 0;
                for (Map.Entry<Character, Builder> e : children.entrySet()) {
                    keys[k] = e.getKey();
                    nodes[k++] = e.getValue().build();
                }
                return new Node(keys, nodes, id);
            }
        }
    }
}
