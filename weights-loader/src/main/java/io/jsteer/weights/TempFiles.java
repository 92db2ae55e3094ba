/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Names of the temporary siblings that outputs are written to before being renamed into place:
 * {@code .NAME.PID.RANDOM.tmp}, in the target's own folder so the rename is atomic. A process
 * killed mid-write leaves its sibling behind; the next write of the same target removes every
 * such sibling whose process is gone, and never one of a process still running.
 */
public final class TempFiles {
    private TempFiles() {}

    /** A fresh temporary sibling of {@code target}, after removing the leftovers of dead processes. */
    public static Path siblingOf(Path target) {
        Path abs = target.toAbsolutePath();
        removeStale(abs);
        return abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
    }

    /** Removes {@code .NAME.PID.*.tmp} siblings of {@code target} (files or folders) left by processes no longer running. */
    public static void removeStale(Path target) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) return;
        String prefix = "." + abs.getFileName() + ".";
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> isTemp(p.getFileName().toString(), prefix))) {
            for (Path p : s) {
                String rest = p.getFileName().toString().substring(prefix.length());
                long pid = Long.parseLong(rest.substring(0, rest.indexOf('.')));
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) deleteTree(p);
            }
        } catch (IOException e) {
            // best effort: a leftover that cannot be listed or removed does not stop the write
        }
    }

    private static boolean isTemp(String name, String prefix) {
        return name.startsWith(prefix) && name.endsWith(".tmp")
                && name.substring(prefix.length()).matches("[0-9]+\\.[0-9a-f]+\\.tmp");
    }

    /** Deletes a file or a folder with everything in it; missing is fine. */
    public static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
                for (Path c : s) deleteTree(c);
            }
        }
        Files.deleteIfExists(p);
    }
}
