/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.server.Served;
import io.jsteer.server.SteeringServer;
import io.jsteer.server.VectorRegistry;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code jsteer serve --backend tornado}: the OpenAI-compatible server (its engine thread running
 * the batched {@link io.jsteer.transformer.batch.Engine}) on a device model answers a request of
 * several prompts, steered by a vector given in the request, with the texts the same server on the
 * CPU model gives.
 */
class ServeOnDeviceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void batchedSteeredCompletionsAsOnCpu() throws Exception {
        System.setProperty("jsteer.cache", Path.of("target", "jsteer-cache").toAbsolutePath().toString());
        Path dir = DefaultModel.ensure(DefaultModel.defaultDirectory());
        Tokenizer tokenizer = Tokenizers.load(dir.resolve("tokenizer.json"));
        try (TornadoBackend backend = TestBackends.open()) {
            List<String> cpu = complete(Model.load(dir), tokenizer), device = complete(Model.load(dir, backend), tokenizer);
            assertEquals(cpu, device);
        }
    }

    /** Finish reason and text of each choice of one greedy request of three prompts (more than the device's two KV caches). */
    private static List<String> complete(Model model, Tokenizer tokenizer) throws IOException, InterruptedException {
        Served served = new Served("default", model, tokenizer, null, Served.stopIds(model, tokenizer, null), Map.of());
        StringBuilder vector = new StringBuilder();
        for (int i = 0; i < model.config().hiddenSize(); i++) vector.append(i == 0 ? "" : ",").append((float) Math.sin(0.37 * i));
        String body = "{\"model\": \"default\", \"prompt\": [\"The old man walked to the\", \"She looked at the\", \"When the war was over\"],"
                + " \"max_tokens\": 6, \"temperature\": 0, \"steering\": [{\"vector\": [" + vector + "], \"layer\": 2, \"coeff\": 3}]}";
        try (SteeringServer server = new SteeringServer(served, new VectorRegistry(model.config(), "default"),
                new SteeringServer.Options("127.0.0.1", 0, null, 8, 64, 1 << 20, Duration.ofSeconds(2)))) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                    .timeout(Duration.ofMinutes(2)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> response;
            try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                response = http.send(request, HttpResponse.BodyHandlers.ofString());
            }
            assertEquals(200, response.statusCode(), response.body());
            List<String> out = new ArrayList<>();
            for (JsonNode choice : JSON.readTree(response.body()).get("choices")) {
                out.add(choice.get("index").asInt() + " " + choice.get("finish_reason").asText() + ": " + choice.get("text").asText());
            }
            assertEquals(3, out.size(), response.body());
            return out;
        }
    }
}
