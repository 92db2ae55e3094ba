/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The texts the tokenizers are checked on: the named edge cases of {@code corpus/cases.json}
 * (JSON escapes keep control characters, CRLF and unpaired surrogates intact), every corpus text
 * file whole and line by line, and one long text of tens of KB made of all of them.
 */
final class Corpus {
    record Text(String name, String text) {}

    /** The long text is at least this many characters. */
    static final int LONG_TEXT_CHARS = 60_000;

    private Corpus() {}

    static List<Text> all() {
        List<Text> out = new ArrayList<>(cases());
        List<Text> files = files();
        for (Text f : files) {
            out.add(f);
            String[] lines = f.text().split("\n", -1);
            for (int i = 0; i < lines.length; i++) out.add(new Text(f.name() + ":" + (i + 1), lines[i]));
        }
        out.add(new Text("long text", longText(files)));
        return out;
    }

    static List<Text> cases() {
        try {
            JsonNode root = new ObjectMapper().readTree(dir().resolve("cases.json").toFile());
            List<Text> out = new ArrayList<>();
            for (JsonNode c : root) out.add(new Text(c.get("name").asText(), c.get("text").asText()));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Text> files() {
        try (Stream<Path> s = Files.list(dir())) {
            List<Text> out = new ArrayList<>();
            for (Path p : s.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                out.add(new Text(p.getFileName().toString(), Files.readString(p)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String longText(List<Text> files) {
        StringBuilder sb = new StringBuilder();
        for (int round = 0; sb.length() < LONG_TEXT_CHARS; round++) {
            for (Text f : files) sb.append(f.text()).append(round % 2 == 0 ? "\n\n" : "\r\n\t ");
        }
        return sb.toString();
    }

    private static Path dir() {
        try {
            return Path.of(Corpus.class.getResource("/tokenizer/corpus").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
