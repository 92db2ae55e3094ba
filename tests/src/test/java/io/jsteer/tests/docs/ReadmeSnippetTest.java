/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's Java snippet is the marked part of examples/embedded, which the build compiles and
 * runs (module examples): the two must stay equal, so the README never shows code that does not
 * compile. The README's dependency block must name the version being built.
 */
class ReadmeSnippetTest {
    /** Surefire runs in the tests module's folder; the repository is its parent. */
    static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
    static final Path EXAMPLE = REPO.resolve("examples/embedded/src/main/java/io/jsteer/examples/embedded/EmbeddedExample.java");

    @Test
    void readmeShowsTheExamplesMarkedCode() throws IOException {
        List<String> example = between(Files.readAllLines(EXAMPLE), "// README:begin", "// README:end");
        assertTrue(example.size() > 10, "the marked part of " + EXAMPLE + " is missing");
        List<String> readme = Files.readAllLines(REPO.resolve("README.md"));
        int section = readme.indexOf("## Using it from Java");
        assertTrue(section >= 0, "README has no 'Using it from Java' section");
        List<String> block = between(readme.subList(section, readme.size()), "```java", "```");
        assertEquals(String.join("\n", dedent(example)), String.join("\n", block),
                "README's Java snippet differs from the marked part of " + REPO.relativize(EXAMPLE) + ": copy it over");
    }

    @Test
    void readmeDependencyBlockNamesTheBuiltVersion() throws IOException {
        String version = System.getProperty("jsteer.version");
        assertTrue(version != null && !version.isBlank(), "the build passes jsteer.version");
        String readme = Files.readString(REPO.resolve("README.md"));
        assertTrue(readme.contains("<artifactId>jsteer-bom</artifactId>\n      <version>" + version + "</version>"),
                "README's dependency block should import jsteer-bom " + version);
        String examplePom = Files.readString(REPO.resolve("examples/embedded/pom.xml"));
        assertTrue(examplePom.contains("<jsteer.version>" + version + "</jsteer.version>"),
                "examples/embedded/pom.xml should default to jsteer " + version);
    }

    /** The lines strictly between the first line whose trimmed text is {@code begin} and the next one that is {@code end}. */
    private static List<String> between(List<String> lines, String begin, String end) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : lines) {
            if (!in) {
                in = line.trim().equals(begin);
                continue;
            }
            if (line.trim().equals(end)) return out;
            out.add(line);
        }
        return List.of();
    }

    private static List<String> dedent(List<String> lines) {
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList();
    }
}
