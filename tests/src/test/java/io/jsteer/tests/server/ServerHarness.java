/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.server.ChatTemplate;
import io.jsteer.server.Served;
import io.jsteer.server.SteeringServer;
import io.jsteer.server.VectorRegistry;
import io.jsteer.steering.Intervention;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The built-in default model served on 127.0.0.1 (a free port), and an HTTP client for it. The
 * model is built once into the module's target folder and shared by the server tests.
 */
final class ServerHarness {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A small chat template in the usual turn format, for the default model (which has none). */
    static final String TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

    private static Model model;
    private static Tokenizer tokenizer;
    private static Path dir;

    static {
        System.setProperty("jsteer.cache", Path.of("target", "jsteer-cache").toAbsolutePath().toString());
    }

    static synchronized Path dir() {
        if (dir == null) dir = DefaultModel.ensure(DefaultModel.defaultDirectory());
        return dir;
    }

    static synchronized Model model() {
        if (model == null) model = Model.load(dir());
        return model;
    }

    static synchronized Tokenizer tokenizer() {
        if (tokenizer == null) tokenizer = Tokenizers.load(dir().resolve("tokenizer.json"));
        return tokenizer;
    }

    static Path plantedVector() {
        return dir().resolve(DefaultModel.PLANTED_DIRECTION);
    }

    static Served served(boolean withTemplate, Map<String, Intervention> presets) {
        ChatTemplate t = withTemplate ? new ChatTemplate(TEMPLATE, Map.of()) : null;
        return new Served("default", model(), tokenizer(), t, Served.stopIds(model(), tokenizer(), t), presets);
    }

    static SteeringServer start(Served served, String apiKey, int maxBatch, int maxQueue) {
        VectorRegistry registry = new VectorRegistry(served.model().config(), served.id());
        return new SteeringServer(served, registry, new SteeringServer.Options("127.0.0.1", 0, apiKey, maxBatch, maxQueue, 1 << 20, Duration.ofSeconds(2)));
    }

    record Reply(int status, JsonNode json, String text, HttpResponse<String> raw) {}

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    static Reply send(SteeringServer s, String method, String path, HttpRequest.BodyPublisher body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(60)).method(method, body);
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            String ct = r.headers().firstValue("Content-Type").orElse("");
            if (ct.startsWith("application/json")) json = JSON.readTree(r.body());
            return new Reply(r.statusCode(), json, r.body(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Reply post(SteeringServer s, String path, String json, String... headers) {
        String[] h = new String[headers.length + 2];
        h[0] = "Content-Type";
        h[1] = "application/json";
        System.arraycopy(headers, 0, h, 2, headers.length);
        return send(s, "POST", path, HttpRequest.BodyPublishers.ofString(json), h);
    }

    static Reply get(SteeringServer s, String path, String... headers) {
        return send(s, "GET", path, HttpRequest.BodyPublishers.noBody(), headers);
    }

    /** The JSON objects of a server-sent-event stream, up to {@code [DONE]} (which must be there). */
    static List<JsonNode> events(String stream) {
        List<JsonNode> out = new ArrayList<>();
        boolean done = false;
        for (String block : stream.split("\n\n")) {
            if (block.isBlank() || block.startsWith(":")) continue;
            if (!block.startsWith("data: ")) throw new AssertionError("not an SSE data line: " + block);
            String data = block.substring(6);
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            if (done) throw new AssertionError("data after [DONE]: " + data);
            try {
                out.add(JSON.readTree(data));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (!done) throw new AssertionError("stream did not end with [DONE]:\n" + stream);
        return out;
    }
}
