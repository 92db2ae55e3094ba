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
 * Reads the text inputs of the command line, UTF-8, blank lines skipped:
 * <ul>
 * <li>prompt files: one prompt per line; in a {@code .jsonl} file each line is a JSON string or an
 *   object with a {@code "prompt"} field (so prompts may contain newlines);</li>
 * <li>contrast files ({@code .jsonl}): one {@code {"positive": "...", "negative": "..."}} pair per line.</li>
 * </ul>
 * Errors name the file and line.
 */
public final class PromptFiles {
    private PromptFiles() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Paired prompts of a contrast set, as text. */
    public record Contrast(List<String> positive, List<String> negative) {
        public Contrast {
            positive = List.copyOf(positive);
            negative = List.copyOf(negative);
        }
    }

    /** A prompt whose next token should be {@code target} rather than {@code counter}, as text. */
    public record Answer(String prompt, String target, String counter) {}

    /** The prompts of an answers JSONL file: {@code {"prompt": ..., "target": ..., "counter": ...}} per line. */
    public static List<Answer> answers(Path file) {
        List<Answer> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n = json(file, i, line);
            if (!n.isObject() || !n.path("prompt").isTextual() || !n.path("target").isTextual() || !n.path("counter").isTextual()) {
                throw new UserError(file + " line " + (i + 1) + ": expected {\"prompt\": \"...\", \"target\": \"...\", \"counter\": \"...\"}");
            }
            out.add(new Answer(n.get("prompt").textValue(), n.get("target").textValue(), n.get("counter").textValue()));
        }
        if (out.isEmpty()) throw new UserError(file + " holds no answer prompts");
        return out;
    }

    /** The prompts of a prompt file. */
    public static List<String> prompts(Path file) {
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        List<String> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            if (!jsonl) {
                out.add(line);
                continue;
            }
            JsonNode n = json(file, i, line);
            if (n.isTextual()) out.add(n.textValue());
            else if (n.isObject() && n.path("prompt").isTextual()) out.add(n.get("prompt").textValue());
            else throw new UserError(file + " line " + (i + 1) + ": expected a JSON string or an object with a \"prompt\" string");
        }
        if (out.isEmpty()) throw new UserError(file + " holds no prompts");
        return out;
    }

    /** The pairs of a contrast JSONL file. */
    public static Contrast contrast(Path file) {
        List<String> pos = new ArrayList<>(), neg = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n = json(file, i, line);
            if (!n.isObject() || !n.path("positive").isTextual() || !n.path("negative").isTextual()) {
                throw new UserError(file + " line " + (i + 1) + ": expected {\"positive\": \"...\", \"negative\": \"...\"}");
            }
            pos.add(n.get("positive").textValue());
            neg.add(n.get("negative").textValue());
        }
        if (pos.isEmpty()) throw new UserError(file + " holds no contrast pairs");
        return new Contrast(pos, neg);
    }

    /** A contrast set from two prompt files (positive and negative prompts, paired by line when counts agree). */
    public static Contrast contrast(Path positive, Path negative) {
        return new Contrast(prompts(positive), prompts(negative));
    }

    private static JsonNode json(Path file, int index, String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UserError(file + " line " + (index + 1) + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
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
