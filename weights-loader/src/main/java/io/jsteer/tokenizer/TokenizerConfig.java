/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What jsteer reads from a Hugging Face {@code tokenizer_config.json}: the chat template (a Jinja
 * source, rendered elsewhere) and the names of the special tokens that frame a sequence. Llama 3,
 * Llama 3.1 and Qwen 3 ship a template; Llama 2's file has none.
 *
 * @param chatTemplate {@code chat_template}: the string, or of a list of named templates the one named "default"
 * @param bosToken     {@code bos_token}, a string or an added-token object's {@code content}; empty when null or absent
 * @param eosToken     {@code eos_token}, likewise
 */
public record TokenizerConfig(Optional<String> chatTemplate, Optional<String> bosToken, Optional<String> eosToken) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code file}; every malformed field is an error naming the file and the field. */
    public static TokenizerConfig load(Path file) {
        if (!Files.isRegularFile(file)) throw new TokenizerException(file, "no such file");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new TokenizerException(file, "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerException(file, "cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new TokenizerException(file, "tokenizer config is not a JSON object");
        return new TokenizerConfig(template(file, root.get("chat_template")), token(file, root, "bos_token"), token(file, root, "eos_token"));
    }

    /** The {@code tokenizer_config.json} beside {@code tokenizerJson}, if there is one. */
    public static Optional<TokenizerConfig> besides(Path tokenizerJson) {
        Path dir = tokenizerJson.toAbsolutePath().getParent();
        Path file = dir == null ? Path.of("tokenizer_config.json") : dir.resolve("tokenizer_config.json");
        return Files.isRegularFile(file) ? Optional.of(load(file)) : Optional.empty();
    }

    private static Optional<String> template(Path file, JsonNode n) {
        if (n == null || n.isNull()) return Optional.empty();
        if (n.isTextual()) return Optional.of(n.textValue());
        if (n.isArray()) {
            // transformers' list form: [{"name": ..., "template": ...}, ...], "default" used when none is asked for
            for (int i = 0; i < n.size(); i++) {
                JsonNode t = n.get(i);
                if (!t.path("name").isTextual() || !t.path("template").isTextual()) {
                    throw new TokenizerException(file, "'chat_template'[" + i + "] must be an object with string fields 'name' and 'template', got " + t);
                }
                if (t.get("name").textValue().equals("default")) return Optional.of(t.get("template").textValue());
            }
            throw new TokenizerException(file, "'chat_template' lists no template named 'default'");
        }
        throw new TokenizerException(file, "'chat_template' must be a string or a list of named templates, got " + n.getNodeType());
    }

    private static Optional<String> token(Path file, JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return Optional.empty();
        if (n.isTextual()) return Optional.of(n.textValue());
        if (n.isObject() && n.path("content").isTextual()) return Optional.of(n.get("content").textValue());
        throw new TokenizerException(file, "'" + key + "' must be a string, an object with a string 'content', or null, got " + n);
    }
}
