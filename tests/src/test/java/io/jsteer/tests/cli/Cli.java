/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs the jsteer command line in-process and reads the fixtures and files it is tested on. */
final class Cli {
    private Cli() {}

    static final ObjectMapper JSON = new ObjectMapper();

    static {
        // the default model is built once into the module's target folder, not the user's cache
        System.setProperty("jsteer.cache", Path.of("target", "jsteer-cache").toAbsolutePath().toString());
    }

    /** Exit status and what went to stdout and stderr. */
    record Result(int exit, String out, String err) {
        Result ok() {
            if (exit != 0) throw new AssertionError("exit " + exit + "\nstdout: " + out + "\nstderr: " + err);
            return this;
        }
    }

    static Result run(Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < a.length; i++) a[i] = args[i].toString();
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(a, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(exit, out.toString(), err.toString());
    }

    static Path write(Path file, String text) {
        try {
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String ids(JsonNode a) {
        StringBuilder b = new StringBuilder();
        for (JsonNode n : a) b.append(b.isEmpty() ? "" : ",").append(n.asInt());
        return b.toString();
    }

    /** Max abs difference divided by max(1, largest |expected|): the fixtures' tolerance scale. */
    static double relativeError(float[] actual, float[] expected) {
        if (actual.length != expected.length) throw new AssertionError("length " + actual.length + " != " + expected.length);
        double err = 0, scale = 1;
        for (int i = 0; i < actual.length; i++) {
            err = Math.max(err, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return err / scale;
    }

    /** Files in {@code dir} other than {@code expected} (e.g. leftover temporary files). */
    static java.util.List<String> strayFiles(Path dir, String... expected) {
        try (var s = Files.list(dir)) {
            java.util.Set<String> keep = java.util.Set.of(expected);
            return s.map(p -> p.getFileName().toString()).filter(n -> !keep.contains(n)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
