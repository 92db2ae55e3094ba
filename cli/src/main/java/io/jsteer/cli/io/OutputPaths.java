/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import io.jsteer.cli.UserError;
import io.jsteer.weights.TempFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;

/**
 * The one rule for every command's outputs, applied before any computation so no work is lost to a
 * late refusal: the parent folder must exist and be writable, the path must not exist as the other
 * kind (a folder where a file goes, a file where a folder goes), and an existing file or non-empty
 * folder is only replaced with {@code --force}.
 */
public final class OutputPaths {
    private OutputPaths() {}

    /** Checks that {@code file} (given as {@code option}) may be written. */
    public static void file(String option, Path file, boolean force) {
        Path abs = file.toAbsolutePath();
        parent(option, file, abs);
        if (Files.isDirectory(abs)) throw new UserError(option + " " + file + " is a folder; give a file name");
        if (Files.exists(abs) && !force) throw new UserError(option + " " + file + " already exists; pass --force to overwrite it");
    }

    /** Checks that the folder {@code dir} (given as {@code option}) may be written or replaced. */
    public static void directory(String option, Path dir, boolean force) {
        Path abs = dir.toAbsolutePath();
        parent(option, dir, abs);
        if (Files.exists(abs) && !Files.isDirectory(abs)) throw new UserError(option + " " + dir + " is a file; give a folder name");
        if (Files.isDirectory(abs) && !isEmpty(abs)) {
            if (!force) throw new UserError(option + " " + dir + " already exists and is not empty; pass --force to replace it");
            if (Path.of("").toAbsolutePath().startsWith(abs)) {
                throw new UserError(option + " " + dir + " holds the working folder; refusing to replace it even with --force");
            }
        }
    }

    private static void parent(String option, Path given, Path abs) {
        Path parent = abs.getParent();
        if (parent == null) throw new UserError(option + " " + given + " has no parent folder to write into");
        if (!Files.isDirectory(parent)) {
            throw new UserError(option + " " + given + ": folder " + parent + (Files.exists(parent) ? " is not a folder" : " does not exist"));
        }
        if (!Files.isWritable(parent)) throw new UserError(option + " " + given + ": folder " + parent + " is not writable");
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Fills a temporary sibling of {@code dir} with {@code content} and renames it to {@code dir}
     * only when complete, so a killed run leaves the old folder (or none) and never new files
     * next to old ones. An existing {@code dir} (allowed by {@link #directory}) is moved aside
     * first and deleted after. Leftovers of killed runs are removed by the next run.
     */
    public static void replaceDirectory(Path dir, Consumer<Path> content) {
        Path target = dir.toAbsolutePath();
        Path tmp = TempFiles.siblingOf(target);
        try {
            Files.createDirectory(tmp);
            content.accept(tmp);
            if (Files.exists(target)) {
                Path old = TempFiles.siblingOf(target);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                TempFiles.deleteTree(old);
            } else {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            TempFiles.deleteTree(p);
        } catch (IOException ignored) {
            // the next run removes it
        }
    }
}
