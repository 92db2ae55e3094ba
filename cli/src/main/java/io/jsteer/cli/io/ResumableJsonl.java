/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.cli.UserError;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Results of a long run over many inputs, streamed as JSON lines so a killed run loses at most the
 * input in progress. Rows go to {@code OUT.partial} as they finish, in any order (a batched
 * engine may finish them out of order), each carrying its input's {@code index} and a
 * {@code run} key saying what produced it; {@link #finish()} writes {@code OUT} in input order
 * (rows as the command made them, without those two keys) and removes the partial file, so {@code OUT} itself only ever appears complete. Opened with
 * {@code resume}, the rows of a killed run's partial file are checked against the inputs and
 * kept, a half-written last line is dropped, and only the missing inputs remain to be done.
 */
public final class ResumableJsonl implements AutoCloseable {
    private final Path out, partial;
    private final String run;
    private final TreeMap<Integer, String> rows = new TreeMap<>();
    private final OutputStream stream;

    private ResumableJsonl(Path out, Path partial, String run, OutputStream stream) {
        this.out = out;
        this.partial = partial;
        this.run = run;
        this.stream = stream;
    }

    /** The partial file of {@code out}. */
    public static Path partialOf(Path out) {
        return out.resolveSibling(out.getFileName() + ".partial");
    }

    /**
     * Checks before any work that {@code out} may be written ({@link OutputPaths#file}) and that
     * a killed run's partial file is neither silently continued nor silently discarded: with it
     * present, {@code --resume} continues it and {@code --force} starts over.
     */
    public static void checkTarget(Path out, boolean resume, boolean force) {
        Path partial = partialOf(out);
        if (resume) {
            if (!Files.isRegularFile(partial)) {
                throw new UserError("--resume: there is no " + partial + " to continue"
                        + (Files.exists(out) ? " (" + out + " is complete)" : ""));
            }
            OutputPaths.file("-o", out, true);
            return;
        }
        OutputPaths.file("-o", out, force);
        if (Files.exists(partial) && !force) {
            throw new UserError(partial + " holds the results of an unfinished run; pass --resume to continue it or --force to start over");
        }
    }

    /**
     * Opens the results of {@code labels.size()} inputs for {@code run} (a description of the
     * settings, compared on resume). With {@code resume}, keeps the partial file's rows.
     */
    public static ResumableJsonl open(Path out, String run, List<String> labels, boolean resume) {
        Path partial = partialOf(out);
        try {
            TreeMap<Integer, String> kept = resume ? readPartial(partial, run, labels) : new TreeMap<>();
            OutputStream stream = resume
                    ? Files.newOutputStream(partial, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                    : Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            ResumableJsonl r = new ResumableJsonl(out, partial, run, stream);
            r.rows.putAll(kept);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + partial + ": " + e.getMessage(), e);
        }
    }

    /** Reads the complete lines of a partial file, cutting off a half-written last line. */
    private static TreeMap<Integer, String> readPartial(Path partial, String run, List<String> labels) throws IOException {
        byte[] bytes = Files.readAllBytes(partial);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') end--;
        if (end < bytes.length) {
            try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                ch.truncate(end);
            }
        }
        TreeMap<Integer, String> kept = new TreeMap<>();
        String[] lines = new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            String where = partial + " line " + (i + 1);
            JsonNode row;
            try {
                row = OutputFiles.JSON_LINE.readTree(lines[i]);
            } catch (JacksonException e) {
                throw new UserError(where + " is not JSON; pass --force to start over");
            }
            int index = row.path("index").asInt(-1);
            if (!row.path("index").isInt() || index < 0 || index >= labels.size()) {
                throw new UserError(where + ": 'index' " + row.get("index") + " is not one of the " + labels.size() + " inputs; pass --force to start over");
            }
            if (!run.equals(row.path("run").asText())) {
                throw new UserError(where + " was made by '" + row.path("run").asText() + "', not '" + run + "'; pass --force to start over");
            }
            if (!labels.get(index).equals(row.path("prompt").asText())) {
                throw new UserError(where + ": input " + index + " was '" + row.path("prompt").asText() + "', now '" + labels.get(index)
                        + "'; the prompts changed, pass --force to start over");
            }
            kept.put(index, lines[i]);
        }
        return kept;
    }

    /** Whether input {@code index} already has a result (from a resumed run). */
    public synchronized boolean done(int index) {
        return rows.containsKey(index);
    }

    /** Number of inputs with a result. */
    public synchronized int completed() {
        return rows.size();
    }

    /**
     * Records the result of input {@code index}: {@code row} with {@code index} and {@code run}
     * added, written through to the partial file at once. Safe to call from several threads.
     */
    public synchronized void write(int index, Map<String, Object> row) {
        Map<String, Object> full = new java.util.LinkedHashMap<>();
        full.put("index", index);
        full.put("run", run);
        full.putAll(row);
        try {
            String line = OutputFiles.JSON_LINE.writeValueAsString(full);
            stream.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stream.flush();
            rows.put(index, line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + partial + ": " + e.getMessage(), e);
        }
    }

    /** The rows in input order. */
    public synchronized List<String> lines() {
        return new ArrayList<>(rows.values());
    }

    /** Writes {@code OUT} as JSON lines in input order (atomically) and removes the partial file. */
    public void finish() {
        finish(lines -> OutputFiles.write(out, o -> {
            for (String line : lines) o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }));
    }

    /**
     * Hands the rows in input order, without the {@code index} and {@code run} keys that only the
     * partial file needs, to {@code writeOut}, which writes {@code OUT} (in another format, say),
     * then removes the partial file.
     */
    public void finish(java.util.function.Consumer<List<String>> writeOut) {
        close();
        List<String> rows = new ArrayList<>();
        for (String line : lines()) {
            try {
                com.fasterxml.jackson.databind.node.ObjectNode row = (com.fasterxml.jackson.databind.node.ObjectNode) OutputFiles.JSON_LINE.readTree(line);
                row.remove("index");
                row.remove("run");
                rows.add(OutputFiles.JSON_LINE.writeValueAsString(row));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot reread " + partial + ": " + e.getMessage(), e);
            }
        }
        writeOut.accept(rows);
        try {
            Files.deleteIfExists(partial);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + partial + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            stream.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + partial + ": " + e.getMessage(), e);
        }
    }
}
