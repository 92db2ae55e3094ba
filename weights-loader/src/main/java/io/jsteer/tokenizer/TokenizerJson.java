/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a tokenizer.json document. The model's {@code vocab} and {@code merges} (hundreds of
 * thousands of entries for Gemma) are streamed straight into maps and lists; every other section is
 * small and read as a JSON tree.
 */
final class TokenizerJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** The parsed document: the model's big tables, and every other field as a tree. */
    record Document(Map<String, JsonNode> sections, ObjectNode modelFields, Map<String, Integer> vocab, List<String[]> merges) {}

    private TokenizerJson() {}

    /**
     * @throws IOException (a Jackson exception) for malformed JSON
     * @throws IllegalArgumentException for well-formed JSON that is not a tokenizer.json
     */
    static Document parse(byte[] utf8) throws IOException {
        try (JsonParser p = MAPPER.createParser(utf8)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw JsonSpec.bad("$", "expected a JSON object at the top level");
            Map<String, JsonNode> sections = new LinkedHashMap<>();
            ObjectNode modelFields = null;
            Map<String, Integer> vocab = null;
            List<String[]> merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (!name.equals("model")) {
                    sections.put(name, MAPPER.readTree(p));
                    continue;
                }
                if (p.currentToken() != JsonToken.START_OBJECT) throw JsonSpec.bad("model", "expected an object");
                modelFields = MAPPER.createObjectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    p.nextToken();
                    switch (field) {
                        case "vocab" -> vocab = vocab(p);
                        case "merges" -> merges = merges(p);
                        default -> modelFields.set(field, MAPPER.readTree(p));
                    }
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) throw JsonSpec.bad("$", "expected the end of the top-level object");
            if (p.nextToken() != null) throw JsonSpec.bad("$", "trailing content after the top-level object");
            if (modelFields == null) throw JsonSpec.bad("model", "missing");
            String type = JsonSpec.requireText(modelFields, "type", "model");
            if (!type.equals("BPE")) throw JsonSpec.unsupported("model", type, "model", "BPE");
            if (vocab == null) throw JsonSpec.bad("model.vocab", "missing");
            if (merges == null) throw JsonSpec.bad("model.merges", "missing");
            return new Document(sections, modelFields, vocab, merges);
        }
    }

    private static Map<String, Integer> vocab(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) throw JsonSpec.bad("model.vocab", "expected an object of token to id");
        Map<String, Integer> vocab = new HashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 0) {
                throw JsonSpec.bad("model.vocab", "token '" + token + "' has id " + p.getText() + ", expected a non-negative integer");
            }
            requireWellFormed(token, "model.vocab");
            vocab.put(token, p.getIntValue());
        }
        return vocab;
    }

    /**
     * Merges are {@code "left right"} strings (older files; a {@code #version} line is skipped) or
     * {@code [left, right]} pairs (newer files, whose tokens may contain spaces).
     */
    private static List<String[]> merges(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) throw JsonSpec.bad("model.merges", "expected an array");
        List<String[]> merges = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_STRING) {
                String line = p.getText();
                if (line.startsWith("#version")) continue;
                int space = line.indexOf(' ');
                if (space < 0 || line.indexOf(' ', space + 1) >= 0) {
                    throw JsonSpec.bad(mergeAt(merges), "expected \"left right\" with exactly one space, found \"" + line + "\"");
                }
                merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
            } else if (t == JsonToken.START_ARRAY) {
                String left = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                String right = left != null && p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                if (right == null || p.nextToken() != JsonToken.END_ARRAY) throw JsonSpec.bad(mergeAt(merges), "expected a pair of two strings");
                merges.add(new String[] {left, right});
            } else {
                throw JsonSpec.bad(mergeAt(merges), "expected a string or a pair of strings, found " + t);
            }
        }
        return merges;
    }

    private static String mergeAt(List<String[]> merges) {
        return "model.merges[" + merges.size() + "]";
    }

    /** The reference's JSON reader refuses lone surrogates; a token holding one could never be produced from text. */
    static void requireWellFormed(String s, String where) {
        if (!Utf8.isWellFormed(s)) throw JsonSpec.bad(where, "token '" + s + "' contains an unpaired surrogate");
    }
}
