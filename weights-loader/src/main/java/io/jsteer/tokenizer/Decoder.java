/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns token strings back into text (the tokenizer.json {@code decoder}). Each step maps the list
 * of token strings to a new list, as the reference's {@code decode_chain}; the final text is the
 * concatenation of the last list.
 */
sealed interface Decoder {
    List<String> decodeChain(List<String> tokens);

    /** Reverses {@link ByteLevel}: all tokens become their bytes, decoded as UTF-8 with replacement. */
    record ByteLevelBytes() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (String t : tokens) ByteLevel.appendBytes(t, bytes);
            return List.of(Utf8.decodeLossy(bytes.toByteArray()));
        }
    }

    /** Replaces every match of a pattern in each token, e.g. U+2581 back to a space. */
    record Replace(Pattern pattern, String content) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            String replacement = Matcher.quoteReplacement(content);
            return tokens.stream().map(t -> pattern.matcher(t).replaceAll(replacement)).toList();
        }
    }

    /**
     * Reverses SentencePiece byte fallback: each run of {@code <0xXX>} tokens becomes the text of
     * those bytes, or one U+FFFD per byte when they are not valid UTF-8.
     */
    record ByteFallback() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            byte[] run = new byte[16];
            int runLength = 0;
            for (String t : tokens) {
                int b = byteValue(t);
                if (b >= 0) {
                    if (runLength == run.length) run = Arrays.copyOf(run, runLength * 2);
                    run[runLength++] = (byte) b;
                    continue;
                }
                flush(run, runLength, out);
                runLength = 0;
                out.add(t);
            }
            flush(run, runLength, out);
            return out;
        }

        private static void flush(byte[] run, int length, List<String> out) {
            if (length == 0) return;
            String text = Utf8.decodeStrict(run, length);
            if (text != null) {
                out.add(text);
            } else {
                for (int i = 0; i < length; i++) out.add(String.valueOf(Utf8.REPLACEMENT));
            }
        }

        /**
         * The byte a {@code <0xXX>} token stands for, else -1. Mirrors the reference's test: six bytes
         * long, {@code <0x} ... {@code >}, and the middle two parse as a hexadecimal {@code u8}
         * (which Rust also allows to be written {@code +X}).
         */
        static int byteValue(String token) {
            if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') return -1;
            int lo = hexDigit(token.charAt(4));
            if (lo < 0) return -1;
            if (token.charAt(3) == '+') return lo;
            int hi = hexDigit(token.charAt(3));
            return hi < 0 ? -1 : hi * 16 + lo;
        }

        private static int hexDigit(char c) {
            return c < 0x80 ? Character.digit(c, 16) : -1;
        }
    }

    /** Concatenates all tokens into one. */
    record Fuse() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /**
     * Removes up to {@code start} leading and {@code stop} trailing occurrences of {@code content}
     * from each token (Llama 2 strips the space its normalizer prepended: after Fuse, once from the text).
     */
    record Strip(int content, int start, int stop) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return tokens.stream().map(this::strip).toList();
        }

        private String strip(String token) {
            int[] cps = token.codePoints().toArray();
            int from = 0, to = cps.length;
            while (from < Math.min(start, cps.length) && cps[from] == content) from++;
            for (int i = 0; i < stop && to > from && cps[to - 1] == content; i++) to--;
            return new String(cps, from, to - from);
        }
    }

    /** Applies decoders in order. */
    record Sequence(List<Decoder> steps) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : steps) tokens = d.decodeChain(tokens);
            return tokens;
        }
    }

    /** Without a decoder the reference joins the tokens with single spaces. */
    record SpaceJoin() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join(" ", tokens));
        }
    }

    /** The decoder described by {@code node} (null or JSON null for none). */
    static Decoder parse(JsonNode node, String where) {
        return node == null || node.isNull() ? new SpaceJoin() : component(node, where);
    }

    private static Decoder component(JsonNode node, String where) {
        String type = JsonSpec.type(node, where);
        return switch (type) {
            case "ByteLevel" -> new ByteLevelBytes();
            case "Replace" -> new Replace(JsonSpec.pattern(node, "pattern", where), JsonSpec.requireText(node, "content", where));
            case "ByteFallback" -> new ByteFallback();
            case "Fuse" -> new Fuse();
            case "Strip" -> {
                String content = JsonSpec.requireText(node, "content", where);
                if (content.codePointCount(0, content.length()) != 1) throw JsonSpec.bad(where + ".content", "expected one character, found \"" + content + "\"");
                yield new Strip(content.codePointAt(0), count(node, "start", where), count(node, "stop", where));
            }
            case "Sequence" -> {
                JsonNode items = JsonSpec.requireArray(node, "decoders", where);
                List<Decoder> steps = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) steps.add(component(items.get(i), where + ".decoders[" + i + "]"));
                yield new Sequence(List.copyOf(steps));
            }
            default -> throw JsonSpec.unsupported("decoder", type, where, "ByteLevel, Replace, ByteFallback, Fuse, Strip, Sequence");
        };
    }

    private static int count(JsonNode node, String key, String where) {
        JsonNode n = node.get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
            throw JsonSpec.bad(where + "." + key, "expected a non-negative integer, found " + (n == null ? "nothing" : n.toString()));
        }
        return n.asInt();
    }
}
