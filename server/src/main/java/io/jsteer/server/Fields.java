/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of request body fields; a field of the wrong type is a 400 naming it. */
final class Fields {
    private Fields() {}

    static boolean absent(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }

    static String string(JsonNode n, String param) {
        if (!n.isTextual()) throw ApiException.invalid(param, param + " must be a string, got " + kind(n));
        return n.asText();
    }

    static double number(JsonNode n, String param) {
        if (!n.isNumber()) throw ApiException.invalid(param, param + " must be a number, got " + kind(n));
        double v = n.asDouble();
        if (!Double.isFinite(v)) throw ApiException.invalid(param, param + " must be finite, got " + v);
        return v;
    }

    static double number(JsonNode parent, String field, String param, double otherwise) {
        JsonNode n = parent.get(field);
        return absent(n) ? otherwise : number(n, param);
    }

    static long integer(JsonNode n, String param) {
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            if (n.isNumber() && n.asDouble() == Math.rint(n.asDouble()) && Math.abs(n.asDouble()) < 1e15) return (long) n.asDouble();
            throw ApiException.invalid(param, param + " must be an integer, got " + kind(n) + (n.isNumber() ? " " + n.asText() : ""));
        }
        return n.asLong();
    }

    static int integer(JsonNode parent, String field, String param, int min, int max, int otherwise) {
        JsonNode n = parent.get(field);
        if (absent(n)) return otherwise;
        long v = integer(n, param);
        if (v < min || v > max) throw ApiException.invalid(param, param + " must be between " + min + " and " + max + ", got " + v);
        return (int) v;
    }

    static boolean bool(JsonNode parent, String field, String param, boolean otherwise) {
        JsonNode n = parent.get(field);
        if (absent(n)) return otherwise;
        if (!n.isBoolean()) throw ApiException.invalid(param, param + " must be true or false, got " + kind(n));
        return n.asBoolean();
    }

    static String kind(JsonNode n) {
        if (n.isTextual()) return "a string";
        if (n.isNumber()) return "a number";
        if (n.isBoolean()) return "a boolean";
        if (n.isArray()) return "an array";
        if (n.isObject()) return "an object";
        return "null";
    }
}
