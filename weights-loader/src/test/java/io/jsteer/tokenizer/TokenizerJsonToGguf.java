/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.GgufFile.Value;
import io.jsteer.weights.GgufVocabulary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a tokenizer.json as a GGUF file holding only the vocabulary, with {@link GgufVocabulary}
 * (jsteer's writer, which shares no code with the tokenizer under test); {@link #digest} is the
 * digest of gguf-tokenizers/tokenizer_to_gguf.py, so a test can check that the writer writes what
 * llama.cpp's gguf-py writes for the same files (the script's digests are in digests.txt).
 */
final class TokenizerJsonToGguf {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    private TokenizerJsonToGguf() {}

    /** Writes the GGUF tokenizer of {@code dir}'s tokenizer.json to {@code out}, with tokenizer.ggml.pre {@code pre}. */
    static void convert(Path dir, String pre, Path out) throws IOException {
        Map<String, Value> meta = new LinkedHashMap<>();
        meta.put("general.architecture", Value.string("llama"));
        meta.putAll(GgufVocabulary.fromTokenizerJson(dir.resolve("tokenizer.json"), pre));
        GgufFile.write(out, meta, List.of());
    }

    /** The script's digest of a file's tokenizer.ggml.* metadata (see tokenizer_to_gguf.py). */
    static String digest(Path gguf) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        try (GgufFile f = GgufFile.read(gguf)) {
            for (Map.Entry<String, Object> e : new TreeMap<>(f.metadata()).entrySet()) {
                if (!e.getKey().startsWith("tokenizer.ggml.")) continue;
                line(sha, e.getKey());
                if (e.getValue() instanceof List<?> list) {
                    for (Object o : list) line(sha, value(o));
                } else {
                    line(sha, value(e.getValue()));
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String value(Object o) {
        if (o instanceof Double d) return String.format("%08x", Float.floatToRawIntBits(d.floatValue()));
        return o.toString();
    }

    private static void line(MessageDigest sha, String s) {
        sha.update((s + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
