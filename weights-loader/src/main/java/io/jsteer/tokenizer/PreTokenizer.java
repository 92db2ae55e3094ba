/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cuts normalized text into the pieces ("words") that the model tokenizes independently (the
 * tokenizer.json {@code pre_tokenizer}). Empty pieces are never produced.
 */
sealed interface PreTokenizer {
    /** Appends the pieces of {@code text} to {@code out}. */
    void split(String text, List<String> out);

    /** The whole text is one piece: the file has no pre-tokenizer. */
    PreTokenizer NONE = new Sequence(List.of());

    /**
     * GPT-2 byte-level pre-tokenization: optionally a leading space, then the GPT-2 regex splits
     * words, numbers, punctuation runs and whitespace, then each piece is rewritten as its UTF-8
     * bytes in the {@link ByteLevel} alphabet.
     */
    record ByteLevelSplit(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            if (addPrefixSpace && !text.startsWith(" ")) text = " " + text;
            if (!useRegex) {
                if (!text.isEmpty()) out.add(ByteLevel.encode(text));
                return;
            }
            // Every character is a letter, a number, white space or something else: the matches tile the text.
            Matcher m = ByteLevel.GPT2_SPLIT.matcher(text);
            while (m.find()) out.add(ByteLevel.encode(m.group()));
        }
    }

    /** What a {@link Split} does with the matches of its pattern. */
    enum Behavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    /**
     * Splits on a pattern (or, when {@code invert}, on everything the pattern does not match), with
     * the delimiters handled per {@link Behavior}. Gemma 3's file splits on {@code " "}, which never
     * matches there: its normalizer has already turned every space into U+2581.
     */
    record Split(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            // Spans alternate between matched and unmatched text and cover all of it, as in the reference.
            List<int[]> spans = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            int last = 0;
            while (m.find()) {
                if (m.end() == m.start()) continue;
                if (m.start() > last) spans.add(new int[] {last, m.start(), invert ? 1 : 0});
                spans.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
                last = m.end();
            }
            if (last < text.length()) spans.add(new int[] {last, text.length(), invert ? 1 : 0});
            List<int[]> pieces = switch (behavior) {
                case REMOVED -> spans.stream().filter(s -> s[2] == 0).toList();
                case ISOLATED -> spans;
                case CONTIGUOUS -> merge(spans, (prev, cur) -> prev[2] == cur[2]);
                case MERGED_WITH_PREVIOUS -> merge(spans, (prev, cur) -> cur[2] == 1 && prev[2] == 0);
                case MERGED_WITH_NEXT -> mergeWithNext(spans);
            };
            for (int[] p : pieces) if (p[1] > p[0]) out.add(text.substring(p[0], p[1]));
        }

        private interface Joins {
            boolean test(int[] previous, int[] current);
        }

        /** Folds each span into the piece before it when {@code joins} says so. */
        private static List<int[]> merge(List<int[]> spans, Joins joins) {
            List<int[]> out = new ArrayList<>();
            int[] previous = null;
            for (int[] s : spans) {
                if (previous != null && joins.test(previous, s)) {
                    out.getLast()[1] = s[1];
                } else {
                    out.add(new int[] {s[0], s[1], 0});
                }
                previous = s;
            }
            return out;
        }

        /** Each match starts a piece that runs up to the next match. */
        private static List<int[]> mergeWithNext(List<int[]> spans) {
            List<int[]> out = new ArrayList<>();
            int[] next = null;
            for (int i = spans.size() - 1; i >= 0; i--) {
                int[] s = spans.get(i);
                if (next != null && s[2] == 1 && next[2] == 0) {
                    out.getLast()[0] = s[0];
                } else {
                    out.add(new int[] {s[0], s[1], 0});
                }
                next = s;
            }
            return out.reversed();
        }
    }

    /** Applies pre-tokenizers in order, each to every piece of the one before. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            List<String> pieces = new ArrayList<>();
            if (!text.isEmpty()) pieces.add(text);
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>();
                for (String piece : pieces) step.split(piece, next);
                pieces = next;
            }
            out.addAll(pieces);
        }
    }

    /** The pre-tokenizer described by {@code node} (null or JSON null for none). */
    static PreTokenizer parse(JsonNode node, String where) {
        return node == null || node.isNull() ? NONE : component(node, where);
    }

    private static PreTokenizer component(JsonNode node, String where) {
        String type = JsonSpec.type(node, where);
        return switch (type) {
            case "ByteLevel" -> new ByteLevelSplit(JsonSpec.bool(node, "add_prefix_space", true, where),
                    JsonSpec.bool(node, "use_regex", true, where));
            case "Split" -> new Split(JsonSpec.pattern(node, "pattern", where), behavior(node, where),
                    JsonSpec.bool(node, "invert", false, where));
            case "Sequence" -> {
                JsonNode items = JsonSpec.requireArray(node, "pretokenizers", where);
                List<PreTokenizer> steps = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) steps.add(component(items.get(i), where + ".pretokenizers[" + i + "]"));
                yield new Sequence(List.copyOf(steps));
            }
            default -> throw JsonSpec.unsupported("pre_tokenizer", type, where, "ByteLevel, Split, Sequence");
        };
    }

    private static Behavior behavior(JsonNode node, String where) {
        String name = JsonSpec.requireText(node, "behavior", where);
        return switch (name) {
            case "Removed" -> Behavior.REMOVED;
            case "Isolated" -> Behavior.ISOLATED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> Behavior.CONTIGUOUS;
            default -> throw JsonSpec.bad(where + ".behavior", "unknown split behavior '" + name
                    + "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
        };
    }
}
