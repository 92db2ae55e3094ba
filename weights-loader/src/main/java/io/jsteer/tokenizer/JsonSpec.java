/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Typed reads of tokenizer.json component objects. Every failure is an IllegalArgumentException whose
 * message starts with the JSON path of the offending value ({@code where}), e.g.
 * {@code decoder.decoders[1].type}.
 */
final class JsonSpec {
    private JsonSpec() {}

    static IllegalArgumentException bad(String where, String message) {
        return new IllegalArgumentException(where + ": " + message);
    }

    static JsonNode requireObject(JsonNode node, String where) {
        if (node == null || !node.isObject()) throw bad(where, "expected an object, found " + describe(node));
        return node;
    }

    static String type(JsonNode node, String where) {
        return requireText(requireObject(node, where), "type", where);
    }

    static JsonNode requireArray(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isArray()) throw bad(where + "." + field, "expected an array, found " + describe(v));
        return v;
    }

    static String requireText(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) throw bad(where + "." + field, "expected a string, found " + describe(v));
        return v.textValue();
    }

    static boolean bool(JsonNode node, String field, boolean absent, String where) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return absent;
        if (!v.isBoolean()) throw bad(where + "." + field, "expected a boolean, found " + describe(v));
        return v.booleanValue();
    }

    /** A {@code {"String": s}} or {@code {"Regex": r}} pattern, as a Java pattern. */
    static Pattern pattern(JsonNode node, String field, String where) {
        String at = where + "." + field;
        JsonNode v = requireObject(node.get(field), at);
        if (v.size() == 1 && v.get("String") != null && v.get("String").isTextual()) {
            return Pattern.compile(Pattern.quote(v.get("String").textValue()));
        }
        if (v.size() == 1 && v.get("Regex") != null && v.get("Regex").isTextual()) {
            try {
                return Regexes.compile(v.get("Regex").textValue());
            } catch (PatternSyntaxException e) {
                throw bad(at + ".Regex", "invalid regular expression: " + e.getDescription());
            }
        }
        throw bad(at, "expected {\"String\": ...} or {\"Regex\": ...}, found " + v);
    }

    static IllegalArgumentException unsupported(String kind, String type, String where, String supported) {
        return bad(where + ".type", "unsupported " + kind + " '" + type + "' (supported: " + supported + ")");
    }

    static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) return "nothing";
        String text = node.toString();
        return node.getNodeType().name().toLowerCase(Locale.ROOT) + " "
                + (text.length() > 60 ? text.substring(0, 60) + "..." : text);
    }
}
