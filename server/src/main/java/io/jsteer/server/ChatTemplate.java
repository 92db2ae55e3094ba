/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint's chat template (the Jinja {@code chat_template} of its {@code tokenizer_config.json},
 * or a {@code chat_template.jinja} file), rendered with Jinjava the way Hugging Face's
 * {@code apply_chat_template} renders it: blocks trimmed and left-stripped ({@code trim_blocks},
 * {@code lstrip_blocks}), {@code raise_exception(msg)} available, the tokenizer's special tokens
 * ({@code bos_token}, {@code eos_token}, ...) bound as strings, and {@code messages} and
 * {@code add_generation_prompt} passed in. The rendered text is tokenized without adding special
 * tokens, as {@code apply_chat_template(tokenize=True)} does: the template writes them itself.
 */
public final class ChatTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest rendered prompt accepted; a template looping on a hostile conversation stops here. */
    private static final long MAX_OUTPUT_CHARS = 4L << 20;

    private final String source;
    private final Map<String, String> specialTokens;
    private final Jinjava jinja;

    /** @param specialTokens names such as {@code bos_token} to their token strings */
    public ChatTemplate(String source, Map<String, String> specialTokens) {
        if (source == null || source.isBlank()) throw new IllegalArgumentException("the chat template is empty");
        this.source = source;
        this.specialTokens = Map.copyOf(specialTokens);
        // Python Jinja semantics where Jinjava keeps older behaviour of its own by default
        LegacyOverrides python = LegacyOverrides.newBuilder()
                .withUseNaturalOperatorPrecedence(true)
                .withParseWhitespaceControlStrictly(true)
                .withEvaluateMapKeys(true)
                .withIterateOverMapKeys(true)
                .withUsePyishObjectMapper(true)
                .withKeepNullableLoopValues(true)
                .build();
        this.jinja = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withLegacyOverrides(python)
                .build());
        jinja.registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    }

    /** Called by templates as {@code raise_exception(message)}: the conversation breaks the template's rules. */
    public static String raiseException(String message) {
        throw new TemplateRefusal(message);
    }

    /** What {@code raise_exception} throws; Jinjava turns it into a render error that keeps the message. */
    static final class TemplateRefusal extends RuntimeException {
        TemplateRefusal(String message) {
            super(message);
        }
    }

    /**
     * The chat template of checkpoint folder {@code dir}: {@code chat_template.jinja} if present,
     * else {@code chat_template} of {@code tokenizer_config.json} (a string, or a list of named
     * templates of which {@code default} is taken). Empty when the folder has neither.
     *
     * @throws IllegalArgumentException naming the file and field when one is present but unusable
     */
    public static Optional<ChatTemplate> load(Path dir) {
        Path config = dir.resolve("tokenizer_config.json");
        Map<String, String> special = new HashMap<>();
        String source = null;
        if (Files.isRegularFile(config)) {
            JsonNode root;
            try {
                root = JSON.readTree(config.toFile());
            } catch (IOException e) {
                throw new IllegalArgumentException(config + ": not valid JSON: " + e.getMessage());
            }
            if (root == null || !root.isObject()) throw new IllegalArgumentException(config + ": not a JSON object");
            for (String name : List.of("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")) {
                String token = tokenString(root.get(name));
                if (token != null) special.put(name, token);
            }
            JsonNode t = root.get("chat_template");
            if (t != null && !t.isNull()) source = templateSource(config, t);
        }
        Path jinjaFile = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinjaFile)) {
            try {
                source = Files.readString(jinjaFile);
            } catch (IOException e) {
                throw new IllegalArgumentException(jinjaFile + ": cannot read: " + e.getMessage());
            }
        }
        return source == null ? Optional.empty() : Optional.of(new ChatTemplate(source, special));
    }

    /** A template from a file of its own (e.g. {@code --chat-template FILE}) with the special tokens of {@code dir}'s tokenizer_config.json. */
    public static ChatTemplate load(Path file, Path dir) {
        String source;
        try {
            source = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the chat template: " + e.getMessage());
        }
        Map<String, String> special = load(dir).map(t -> t.specialTokens).orElse(Map.of());
        if (source.isBlank()) throw new IllegalArgumentException(file + ": the chat template is empty");
        return new ChatTemplate(source, special);
    }

    private static String templateSource(Path config, JsonNode t) {
        if (t.isTextual()) return t.asText();
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) return named.get("template").asText();
            }
            throw new IllegalArgumentException(config + ": chat_template is a list without a template named 'default'");
        }
        throw new IllegalArgumentException(config + ": chat_template is neither a string nor a list of named templates");
    }

    private static String tokenString(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
        return null;
    }

    /** The special token {@code name} (e.g. {@code eos_token}) as the config gives it. */
    public Optional<String> specialToken(String name) {
        return Optional.ofNullable(specialTokens.get(name));
    }

    /**
     * The prompt text for {@code messages} (each a map with {@code role} and {@code content}).
     *
     * @throws ApiException 400 naming {@code messages} when the template refuses the conversation
     */
    public String render(List<?> messages, boolean addGenerationPrompt) {
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r = jinja.renderForResult(source, bindings);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            throw ApiException.invalid("messages", "the model's chat template refused the conversation: " + refusal(e));
        }
        return r.getOutput();
    }

    private static String refusal(TemplateError e) {
        for (Throwable c = e.getException(); c != null; c = c.getCause()) {
            if (c instanceof TemplateRefusal) return c.getMessage();
        }
        return e.getMessage();
    }
}
