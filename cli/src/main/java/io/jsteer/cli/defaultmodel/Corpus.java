/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import io.jsteer.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in training text of the default model: {@code corpus.txt}, about 3,300 words of plain
 * English prose written for this project (and dedicated to the public domain) in three registers:
 * everyday village life, a love story ending in a wedding, and a war. One paragraph per line.
 */
final class Corpus {
    private Corpus() {}

    /** The paragraphs of the corpus, each tokenized separately (no special tokens). */
    static List<int[]> paragraphs(Tokenizer tokenizer) {
        List<int[]> out = new ArrayList<>();
        for (String line : text().split("\n")) {
            if (!line.isBlank()) out.add(tokenizer.encode(line.strip()));
        }
        return out;
    }

    /** The raw corpus text. */
    static String text() {
        return resource("corpus.txt");
    }

    static String resource(String name) {
        try (InputStream in = Corpus.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("resource io/jsteer/cli/defaultmodel/" + name + " is missing from the jsteer jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read built-in resource " + name, e);
        }
    }
}
