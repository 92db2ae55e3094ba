/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.transformer.Model;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A program that embeds jsteer but forgets {@code --add-modules jdk.incubator.vector} is told so
 * when it loads a model, instead of meeting a {@code NoClassDefFoundError} in the first product.
 */
class VectorApiFlagTest {
    /** Loads the checkpoint in {@code args[0]} and prints what happened. */
    public static void main(String[] args) {
        try {
            Model.load(Path.of(args[0]));
            System.out.println("loaded");
        } catch (IllegalStateException e) {
            System.out.println(e.getMessage());
        }
    }

    @Test
    void loadingWithoutTheFlagNamesTheFlag() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), VectorApiFlagTest.class.getName(),
                Fixtures.dir("pythia-tiny-parallel").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM without the flag did not end");
        assertEquals("jsteer needs the Vector API: start the JVM with --add-modules jdk.incubator.vector", out.strip());
    }

    @Test
    void withTheFlagTheSameProgramLoads() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                VectorApiFlagTest.class.getName(), Fixtures.dir("pythia-tiny-parallel").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM with the flag did not end");
        assertTrue(out.strip().endsWith("loaded"), out);
    }
}
