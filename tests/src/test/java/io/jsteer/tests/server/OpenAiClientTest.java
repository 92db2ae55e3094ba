/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.server.SteeringServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server driven by the official {@code openai} npm client (server/client-check/check.mjs, the
 * version its package-lock.json pins, installed at build time by client-check/install.sh):
 * completions, chat, streaming, steering as an extra body field, errors as the client's error
 * classes. Skipped, saying why, only where the machine has no node.
 */
@Timeout(120)
class OpenAiClientTest {
    static final Path CHECK = Path.of(System.getProperty("jsteer.clientcheck.dir", "../server/client-check")).toAbsolutePath().normalize();

    @Test
    void theOfficialClientPassesEveryCheck() throws Exception {
        Assumptions.assumeTrue(nodeVersion() != null, "node not found on PATH: the openai client check needs Node.js (server/client-check)");
        assertTrue(Files.isRegularFile(CHECK.resolve("node_modules/openai/package.json")),
                "the openai client is not installed in " + CHECK + ": the build runs client-check/install.sh (npm ci) before the tests");
        try (SteeringServer s = ServerHarness.start(ServerHarness.served(true, Map.of()), null, 4, 32)) {
            s.vectors().put("love", Files.readAllBytes(ServerHarness.plantedVector()));
            Path log = Files.createTempFile("openai-client-check", ".log");
            try {
                Process p = new ProcessBuilder("node", "check.mjs", "http://127.0.0.1:" + s.port() + "/v1", "love")
                        .directory(CHECK.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                p.getOutputStream().close();
                boolean ended = p.waitFor(60, TimeUnit.SECONDS);
                if (!ended) p.destroyForcibly().waitFor();
                String out = Files.readString(log);
                assertTrue(ended, "check.mjs did not end within 60 s:\n" + out);
                assertEquals(0, p.exitValue(), out);
                assertTrue(out.contains("7 passed, 0 failed"), out);
            } finally {
                Files.deleteIfExists(log);
            }
        }
    }

    /** {@code node --version}, or null where there is no node. */
    static String nodeVersion() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? v : null;
        } catch (IOException e) {
            return null;
        }
    }
}
