/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.cli.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the text inputs of the command line, UTF-8, blank lines skipped. A prompt is text, or in
 * JSON an array of token ids ({@code [12, 7, 99]}), which needs no tokenizer:
 * <ul>
 * <li>prompt files: one prompt per line; in a {@code .jsonl} file each line is a JSON string, an id
 *   array, or an object with a {@code "prompt"} field holding either (so prompts may contain newlines);</li>
 * <li>contrast files ({@code .jsonl}): one {@code {"positive": ..., "negative": ...}} pair per line;</li>
 * <li>answer files ({@code .jsonl}): {@code {"prompt": ..., "target": " A", "counter": " B"}} per line.</li>
 * </ul>
 * Errors name the file and line.
 */
public final class PromptFiles {
    private PromptFiles() {}

    /** One value per line: a second object after the first is an error, not silently dropped. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Positive and negative prompts of a contrast set. */
    public record Contrast(List<Prompt> positive, List<Prompt> negative) {
        public Contrast {
            positive = List.copyOf(positive);
            negative = List.copyOf(negative);
        }
    }

    /** A prompt whose next token should be {@code target} rather than {@code counter} (both text). */
    public record Answer(Prompt prompt, String target, String counter) {}

    /** A prompt and the line of its file it was read from (1-based). */
    public record Numbered(Prompt prompt, int line) {}

    /** The prompts of a prompt file. */
    public static List<Prompt> prompts(Path file) {
        return numbered(file).stream().map(Numbered::prompt).toList();
    }

    /** The prompts of a prompt file with their line numbers, for errors that name the line. */
    public static List<Numbered> numbered(Path file) {
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        List<Numbered> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            if (!jsonl) {
                out.add(new Numbered(Prompt.of(line), i + 1));
                continue;
            }
            JsonNode n = json(file, i, line);
            out.add(new Numbered(prompt(file, i, n.isObject() ? n.get("prompt") : n, "a JSON string, an array of token ids, or an object with a \"prompt\""), i + 1));
        }
        if (out.isEmpty()) throw new UserError(file + " holds no prompts");
        return out;
    }

    /** The texts of a prompt file (ids are not allowed where text is needed). */
    public static List<String> texts(Path file) {
        List<String> out = new ArrayList<>();
        for (Prompt p : prompts(file)) {
            if (p.text() == null) throw new UserError(file + ": expected text prompts, found token ids " + p.label());
            out.add(p.text());
        }
        return out;
    }

    /** The pairs of a contrast JSONL file. */
    public static Contrast contrast(Path file) {
        List<Prompt> pos = new ArrayList<>(), neg = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n = json(file, i, line);
            if (!n.isObject()) throw new UserError(file + " line " + (i + 1) + ": expected {\"positive\": ..., \"negative\": ...}");
            pos.add(prompt(file, i, n.get("positive"), "\"positive\" as a string or an array of token ids"));
            neg.add(prompt(file, i, n.get("negative"), "\"negative\" as a string or an array of token ids"));
        }
        if (pos.isEmpty()) throw new UserError(file + " holds no contrast pairs");
        return new Contrast(pos, neg);
    }

    /** A contrast set from two prompt files. */
    public static Contrast contrast(Path positive, Path negative) {
        return new Contrast(prompts(positive), prompts(negative));
    }

    /** The prompts of an answers JSONL file. */
    public static List<Answer> answers(Path file) {
        List<Answer> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n = json(file, i, line);
            if (!n.isObject() || !n.path("target").isTextual() || !n.path("counter").isTextual()) {
                throw new UserError(file + " line " + (i + 1) + ": expected {\"prompt\": ..., \"target\": \"...\", \"counter\": \"...\"}");
            }
            out.add(new Answer(prompt(file, i, n.get("prompt"), "\"prompt\" as a string or an array of token ids"),
                    n.get("target").textValue(), n.get("counter").textValue()));
        }
        if (out.isEmpty()) throw new UserError(file + " holds no answer prompts");
        return out;
    }

    private static Prompt prompt(Path file, int index, JsonNode n, String expected) {
        if (n != null && n.isTextual()) return Prompt.of(n.textValue());
        if (n != null && n.isArray() && !n.isEmpty()) {
            int[] ids = new int[n.size()];
            for (int k = 0; k < ids.length; k++) {
                JsonNode e = n.get(k);
                if (!e.isInt() || e.intValue() < 0) throw new UserError(file + " line " + (index + 1) + ": token id " + e + " is not a non-negative integer");
                ids[k] = e.intValue();
            }
            return Prompt.ofIds(ids);
        }
        throw new UserError(file + " line " + (index + 1) + ": expected " + expected);
    }

    private static JsonNode json(Path file, int index, String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m && m.getMessage().contains("Trailing token")
                    ? "more than one JSON value on the line (one object per line)"
                    : "not valid JSON (" + io.jsteer.weights.WeightsException.describe(e) + ")";
            throw new UserError(file + " line " + (index + 1) + ": " + why);
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError("no such file: " + file);
        } catch (MalformedInputException e) {
            throw new UserError(file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
