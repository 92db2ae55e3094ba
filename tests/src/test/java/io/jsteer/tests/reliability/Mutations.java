/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Seeded mutations of file contents, each with a description for the test name: byte-level
 * (truncation, flipped and inserted bytes, an integer field overwritten with a boundary value)
 * and JSON-level (one value replaced by a value of the wrong kind or at a domain boundary, or a
 * key removed). Boundary values are the ones that broke readers before: 0, negatives, 2^31,
 * 2^30+24, 1e999 (parses as infinity), 1e-300, wrong JSON types.
 */
final class Mutations {
    private Mutations() {}

    static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A mutated copy and what was done. */
    record Mutant(byte[] bytes, String what) {}

    /** A mutation of some bytes. */
    interface Mutation extends Function<Random, Function<byte[], Mutant>> {}

    static final long[] BOUNDARY_LONGS = {0, -1, 1, 7, 255, 65535, Integer.MAX_VALUE, 1L << 31, 1L << 32, (1L << 30) + 24, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE};

    /** Values a JSON field is replaced with. */
    static JsonNode boundaryJson(Random r) {
        return switch (r.nextInt(22)) {
            case 0 -> F.numberNode(0);
            case 1 -> F.numberNode(-1);
            case 2 -> F.numberNode(1);
            case 3 -> F.numberNode(Integer.MAX_VALUE);
            case 4 -> F.numberNode(1L << 31);
            case 5 -> F.numberNode((1 << 30) + 24);
            case 6 -> F.numberNode(new BigDecimal("1e999"));
            case 7 -> F.numberNode(new BigDecimal("-1e999"));
            case 8 -> F.numberNode(1e-300);
            case 9 -> F.numberNode(0.5);
            case 10 -> F.numberNode(-0.0);
            case 11 -> F.numberNode(new BigInteger("123456789012345678901234567890"));
            case 12 -> F.textNode("x");
            case 13 -> F.textNode("");
            case 14 -> F.nullNode();
            case 15 -> F.booleanNode(true);
            case 16 -> F.arrayNode();
            case 17 -> F.objectNode();
            case 18 -> F.arrayNode().add(1).add(2);
            case 19 -> F.numberNode(3);
            case 20 -> F.numberNode(1e6);
            default -> F.textNode("\u0000\uFFFF\u00e9");
        };
    }

    /** Byte-level mutations: any file format. */
    static Mutant bytes(byte[] in, Random r) {
        byte[] b = in.clone();
        switch (r.nextInt(6)) {
            case 0 -> {
                int len = r.nextInt(Math.max(1, b.length));
                return new Mutant(Arrays.copyOf(b, len), "truncated to " + len + " bytes");
            }
            case 1 -> {
                int n = 1 + r.nextInt(8);
                StringBuilder at = new StringBuilder();
                for (int i = 0; i < n && b.length > 0; i++) {
                    int p = r.nextInt(b.length);
                    b[p] ^= (byte) (1 + r.nextInt(255));
                    at.append(p).append(' ');
                }
                return new Mutant(b, "flipped bytes at " + at.toString().strip());
            }
            case 2 -> {
                // the header region is where lengths and offsets live
                int p = r.nextInt(Math.max(1, Math.min(b.length, 256)));
                if (p < b.length) b[p] = (byte) r.nextInt(256);
                return new Mutant(b, "header byte " + p + " set");
            }
            case 3 -> {
                int p = r.nextInt(Math.max(1, Math.min(b.length - 8, 96)) + 1);
                long v = BOUNDARY_LONGS[r.nextInt(BOUNDARY_LONGS.length)];
                if (p + 8 <= b.length) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(p, v);
                return new Mutant(b, "u64 at " + p + " set to " + v);
            }
            case 4 -> {
                int p = r.nextInt(b.length + 1);
                byte[] junk = new byte[1 + r.nextInt(64)];
                r.nextBytes(junk);
                byte[] out = new byte[b.length + junk.length];
                System.arraycopy(b, 0, out, 0, p);
                System.arraycopy(junk, 0, out, p, junk.length);
                System.arraycopy(b, p, out, p + junk.length, b.length - p);
                return new Mutant(out, junk.length + " random bytes inserted at " + p);
            }
            default -> {
                return new Mutant(new byte[0], "emptied");
            }
        }
    }

    /** Every value path in a JSON tree (object fields and array elements), depth first. */
    static List<String> paths(JsonNode n, String at, List<String> out) {
        if (n.isObject()) {
            for (var e : n.properties()) {
                String p = at + "/" + e.getKey().replace("~", "~0").replace("/", "~1");
                out.add(p);
                paths(e.getValue(), p, out);
            }
        } else if (n.isArray()) {
            // long arrays (vocabularies, merges) would drown the rest: a few elements stand for them
            for (int i = 0; i < Math.min(n.size(), 3); i++) {
                String p = at + "/" + i;
                out.add(p);
                paths(n.get(i), p, out);
            }
        }
        return out;
    }

    /** One JSON-level mutation of a document: a value replaced, or a key removed. */
    static Mutant json(byte[] in, Random r) {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the base file is not JSON", e);
        }
        List<String> paths = paths(root, "", new ArrayList<>());
        String path = paths.get(r.nextInt(paths.size()));
        int slash = path.lastIndexOf('/');
        JsonNode parent = root.at(path.substring(0, slash));
        String key = path.substring(slash + 1).replace("~1", "/").replace("~0", "~");
        String what;
        if (parent.isObject() && r.nextInt(5) == 0) {
            ((ObjectNode) parent).remove(key);
            what = "removed " + path;
        } else {
            JsonNode v = boundaryJson(r);
            if (parent.isObject()) ((ObjectNode) parent).set(key, v);
            else ((ArrayNode) parent).set(Integer.parseInt(key), v);
            what = path + " = " + v;
        }
        try {
            return new Mutant(JSON.writeValueAsBytes(root), what);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Text-level mutations of a JSON-lines file: lines broken, merged, duplicated, replaced. */
    static Mutant jsonLines(byte[] in, Random r) {
        List<String> lines = new ArrayList<>(new String(in, StandardCharsets.UTF_8).lines().toList());
        int i = r.nextInt(lines.size());
        String what;
        switch (r.nextInt(7)) {
            case 0 -> {
                lines.set(i, lines.get(i) + " " + lines.get(i));
                what = "line " + (i + 1) + " holds two objects";
            }
            case 1 -> {
                lines.set(i, lines.get(i).substring(0, r.nextInt(lines.get(i).length())));
                what = "line " + (i + 1) + " cut";
            }
            case 2 -> {
                String[] junk = {"[]", "{}", "null", "42", "[-1]", "[99999999999]", "[1.5]", "\"\"", "{\"positive\": []}", "[1, \"a\"]",
                        "{\"positive\": [1], \"negative\": [2], \"positive\": [3]}", "\u0000", "[2147483648]", "{\"prompt\": {}}"};
                String j = junk[r.nextInt(junk.length)];
                lines.set(i, j);
                what = "line " + (i + 1) + " = " + j;
            }
            case 3 -> {
                Mutant m = json(lines.get(i).getBytes(StandardCharsets.UTF_8), r);
                lines.set(i, new String(m.bytes(), StandardCharsets.UTF_8));
                what = "line " + (i + 1) + ": " + m.what();
            }
            case 4 -> {
                lines.clear();
                what = "no lines";
            }
            case 5 -> {
                lines.set(i, lines.get(i).replaceAll("[0-9]+", String.valueOf(BOUNDARY_LONGS[r.nextInt(BOUNDARY_LONGS.length)])));
                what = "line " + (i + 1) + " numbers replaced";
            }
            default -> {
                Mutant m = bytes(String.join("\n", lines).getBytes(StandardCharsets.UTF_8), r);
                return new Mutant(m.bytes(), "bytes: " + m.what());
            }
        }
        return new Mutant((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8), what);
    }

    /** Rewrites a safetensors file with its JSON header mutated (lengths kept consistent). */
    static Mutant safetensorsHeader(byte[] in, Random r) {
        long len = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] header = Arrays.copyOfRange(in, 8, (int) (8 + len));
        Mutant m = json(header, r);
        byte[] out = new byte[8 + m.bytes().length + (in.length - 8 - (int) len)];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, m.bytes().length);
        System.arraycopy(m.bytes(), 0, out, 8, m.bytes().length);
        System.arraycopy(in, (int) (8 + len), out, 8 + m.bytes().length, in.length - 8 - (int) len);
        return new Mutant(out, "header " + m.what());
    }
}
