/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import io.jsteer.weights.TempFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes whole files so that readers see the old content or the new, never a part. */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Writes {@code bytes} to a temporary file next to {@code file}, then renames it over
     * {@code file}. On failure the temporary file is removed and any previous {@code file} is
     * left as it was.
     */
    public static void write(Path file, byte[] bytes) {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) throw new UncheckedIOException(new IOException("cannot write " + file + ": directory " + dir + " does not exist"));
        Path tmp = TempFiles.siblingOf(target);
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
