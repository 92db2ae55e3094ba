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

/** Rewrites text before pre-tokenization (the tokenizer.json {@code normalizer}). */
sealed interface Normalizer {
    String normalize(String text);

    /** Leaves text unchanged: the file has no normalizer. */
    Normalizer NONE = new Sequence(List.of());

    /** A Unicode normalization form (UAX #15), e.g. NFC for GPT-NeoX. */
    record UnicodeForm(java.text.Normalizer.Form form) implements Normalizer {
        @Override
        public String normalize(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    /** Replaces every match of a pattern with fixed text, e.g. Gemma's space to U+2581. */
    record Replace(Pattern pattern, String content) implements Normalizer {
        @Override
        public String normalize(String text) {
            return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    /** Puts fixed text in front of any non-empty text (SentencePiece's dummy prefix). */
    record Prepend(String prefix) implements Normalizer {
        @Override
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** Applies normalizers in order. */
    record Sequence(List<Normalizer> steps) implements Normalizer {
        @Override
        public String normalize(String text) {
            for (Normalizer n : steps) text = n.normalize(text);
            return text;
        }
    }

    /** The normalizer described by {@code node} (null or JSON null for none). */
    static Normalizer parse(JsonNode node, String where) {
        return node == null || node.isNull() ? NONE : component(node, where);
    }

    private static Normalizer component(JsonNode node, String where) {
        String type = JsonSpec.type(node, where);
        return switch (type) {
            case "NFC" -> new UnicodeForm(java.text.Normalizer.Form.NFC);
            case "NFD" -> new UnicodeForm(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new UnicodeForm(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new UnicodeForm(java.text.Normalizer.Form.NFKD);
            case "Replace" -> new Replace(JsonSpec.pattern(node, "pattern", where), JsonSpec.requireText(node, "content", where));
            case "Prepend" -> new Prepend(JsonSpec.requireText(node, "prepend", where));
            case "Sequence" -> {
                JsonNode items = JsonSpec.requireArray(node, "normalizers", where);
                List<Normalizer> steps = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) steps.add(component(items.get(i), where + ".normalizers[" + i + "]"));
                yield new Sequence(List.copyOf(steps));
            }
            default -> throw JsonSpec.unsupported("normalizer", type, where, "NFC, NFD, NFKC, NFKD, Replace, Prepend, Sequence");
        };
    }
}
