/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.server.SteeringServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded load test on 127.0.0.1: 32 concurrent streaming clients send 200 requests (steered
 * along the planted vector with several coefficients or not at all, greedy or seeded), and every
 * seventh disconnects after its first chunk. Every completed response must equal the same request
 * run alone, nothing may fail but those disconnects, and the process's resident memory must stay
 * bounded.
 */
@Timeout(180)
class ServerLoadTest {
    static final int CLIENTS = 32, REQUESTS = 200;

    static String body(int kind) {
        String[] prompts = {"The old man walked to the", "In the morning the village", "She looked at the", "The soldiers marched to"};
        double coeff = new double[] {0, 4, -4, 8, 2}[kind % 5];
        String steering = coeff == 0 ? "" : ", \"steering\": [{\"vector\": \"love\", \"coeff\": " + coeff + "}]";
        String sampling = kind % 2 == 0 ? ", \"temperature\": 0" : ", \"temperature\": 0.9, \"seed\": " + kind;
        return "{\"prompt\": \"" + prompts[kind % prompts.length] + "\", \"max_tokens\": " + (8 + kind % 9) + sampling + steering + ", \"stream\": true}";
    }

    static long rssKb() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** The streamed text, or null when the client hung up on purpose after the first chunk. */
    static String run(SteeringServer s, String body, boolean hangUp) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<InputStream> resp = ServerHarness.HTTP.send(r, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 200) throw new AssertionError("status " + resp.statusCode() + ": " + new String(resp.body().readAllBytes(), StandardCharsets.UTF_8));
        try (InputStream in = resp.body()) {
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            StringBuilder all = new StringBuilder();
            for (String line; (line = lines.readLine()) != null;) {
                all.append(line).append('\n');
                if (hangUp && line.startsWith("data: ")) return null;
            }
            StringBuilder text = new StringBuilder();
            for (JsonNode chunk : ServerHarness.events(all.toString())) text.append(chunk.at("/choices/0/text").asText());
            return text.toString();
        }
    }

    @Test
    void everyCompletedResponseEqualsItsSingleRequestResult() throws Exception {
        try (SteeringServer s = ServerHarness.start(ServerHarness.served(false, Map.of()), null, 8, 64)) {
            assertEquals(201, ServerHarness.send(s, "PUT", "/v1/steering/vectors/love",
                    HttpRequest.BodyPublishers.ofByteArray(Files.readAllBytes(ServerHarness.plantedVector()))).status());
            int kinds = 20;
            Map<Integer, String> alone = new ConcurrentHashMap<>();
            for (int k = 0; k < kinds; k++) alone.put(k, run(s, body(k), false));
            long rssBefore = rssKb();
            AtomicInteger hungUp = new AtomicInteger();
            try (ExecutorService pool = Executors.newFixedThreadPool(CLIENTS)) {
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < REQUESTS; i++) {
                    int kind = i % kinds;
                    boolean hangUp = i % 7 == 3;
                    results.add(pool.submit(() -> {
                        String text = run(s, body(kind), hangUp);
                        if (text == null) hungUp.incrementAndGet();
                        return text;
                    }));
                }
                for (int i = 0; i < REQUESTS; i++) {
                    String text = results.get(i).get();
                    if (i % 7 == 3) continue;
                    assertEquals(alone.get(i % kinds), text, "request " + i + ": " + body(i % kinds));
                }
            }
            assertEquals((REQUESTS + 3) / 7, hungUp.get());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (ServerHarness.get(s, "/health").json().get("running_and_queued").asInt() != 0) {
                assertTrue(System.nanoTime() < deadline, "sequences left running after the load");
                Thread.sleep(20);
            }
            String metrics = ServerHarness.get(s, "/metrics").text();
            assertTrue(metrics.lines().noneMatch(l -> l.startsWith("jsteer_requests_total") && l.contains("status=\"5")), metrics);
            long grown = rssKb() - rssBefore;
            assertTrue(grown < 512 * 1024, "resident memory grew by " + grown / 1024 + " MiB under load");
        }
    }
}
