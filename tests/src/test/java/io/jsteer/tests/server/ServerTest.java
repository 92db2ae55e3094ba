/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.server;

import static io.jsteer.tests.server.ServerHarness.events;
import static io.jsteer.tests.server.ServerHarness.get;
import static io.jsteer.tests.server.ServerHarness.post;
import static io.jsteer.tests.server.ServerHarness.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.server.Served;
import io.jsteer.server.SteeringServer;
import io.jsteer.server.VectorRegistry;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.transformer.State;
import io.jsteer.transformer.generate.Generator;
import io.jsteer.transformer.generate.Sampler;
import io.jsteer.transformer.hooks.Hooks;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server over real HTTP on 127.0.0.1, serving the built-in default model. Expected outputs
 * come from {@link Generator} running the same prompt alone on one sequence, outside the server
 * and its batching.
 */
@Timeout(120)
class ServerTest {
    static final String PROMPT = "The old man walked to the";
    static SteeringServer server;
    static Served served;

    @BeforeAll
    static void start() throws IOException {
        served = ServerHarness.served(true, Map.of("love5", new AddVector(VectorFiles.load(ServerHarness.plantedVector()), 5, PositionRule.all())));
        server = ServerHarness.start(served, null, 8, 64);
        assertEquals(201, send(server, "PUT", "/v1/steering/vectors/love", HttpRequest.BodyPublishers.ofByteArray(Files.readAllBytes(ServerHarness.plantedVector()))).status());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The text {@link Generator} makes for {@code prompt} alone, steered along the planted vector with {@code coeff} (0: unsteered). */
    static String alone(String prompt, int maxTokens, Sampler sampler, double coeff) {
        var model = ServerHarness.model();
        State state = model.newState();
        Hooks.Handle h = coeff == 0 ? null : new AddVector(VectorFiles.load(ServerHarness.plantedVector()), coeff, PositionRule.all()).attach(state);
        int[] ids = ServerHarness.tokenizer().encode(prompt, true);
        int[] out = new Generator(model).generate(state, ids, maxTokens, sampler, served.stopIds(), null).tokens();
        if (h != null) h.close();
        return ServerHarness.tokenizer().decode(out, true);
    }

    static String completion(String body) {
        var r = post(server, "/v1/completions", body);
        assertEquals(200, r.status(), r.text());
        return r.json().at("/choices/0/text").asText();
    }

    @Test
    void greedyCompletionEqualsTheModelRunAlone() {
        var r = post(server, "/v1/completions", "{\"model\": \"default\", \"prompt\": \"" + PROMPT + "\", \"max_tokens\": 12, \"temperature\": 0}");
        assertEquals(200, r.status(), r.text());
        JsonNode o = r.json();
        assertEquals("text_completion", o.get("object").asText());
        assertEquals(alone(PROMPT, 12, Sampler.greedy(), 0), o.at("/choices/0/text").asText());
        assertEquals("length", o.at("/choices/0/finish_reason").asText());
        assertEquals(ServerHarness.tokenizer().encode(PROMPT, true).length, o.at("/usage/prompt_tokens").asInt());
        assertEquals(12, o.at("/usage/completion_tokens").asInt());
        assertEquals(o.at("/usage/prompt_tokens").asInt() + 12, o.at("/usage/total_tokens").asInt());
    }

    @Test
    void steeringByNameAndByValuesEqualsTheVectorAddedAlone() throws IOException {
        String steered = completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 10, \"temperature\": 0, \"steering\": [{\"vector\": \"love\", \"coeff\": 6}]}");
        assertEquals(alone(PROMPT, 10, Sampler.greedy(), 6), steered);
        assertNotEquals(alone(PROMPT, 10, Sampler.greedy(), 0), steered);
        var v = VectorFiles.load(ServerHarness.plantedVector());
        String values = ServerHarness.JSON.writeValueAsString(v.direction());
        String byValues = completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 10, \"temperature\": 0, \"steering\": [{\"vector\": " + values
                + ", \"layer\": " + v.hook().layer() + ", \"hook\": \"resid_post\", \"coeff\": 6, \"positions\": \"all\"}]}");
        assertEquals(steered, byValues);
        // two entries compose by addition: 3 + 3 = 6
        String twice = completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 10, \"temperature\": 0, \"steering\": [{\"vector\": \"love\", \"coeff\": 3}, {\"vector\": \"love\", \"coeff\": 3}]}");
        assertEquals(alone(PROMPT, 10, Sampler.greedy(), 6), twice);
        // under "priority" the second entry keeps only what is new relative to the first: nothing
        String prioritised = completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 10, \"temperature\": 0, \"compose\": \"priority\","
                + " \"steering\": [{\"vector\": \"love\", \"coeff\": 3}, {\"vector\": \"love\", \"coeff\": 3}]}");
        assertEquals(alone(PROMPT, 10, Sampler.greedy(), 3), prioritised);
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"compose\": \"max-norm\", \"steering\": [{\"vector\": \"love\"}]}"), 400, "compose");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"compose\": \"sum\"}"), 400, "compose");
    }

    @Test
    void seededSamplingEqualsTheSamplerRunAlone() {
        String body = "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 12, \"temperature\": 0.9, \"top_p\": 0.95, \"top_k\": 40, \"seed\": 1234}";
        assertEquals(alone(PROMPT, 12, new Sampler(0.9, 40, 0.95, 1234), 0), completion(body));
        assertEquals(completion(body), completion(body));
    }

    @Test
    void concurrentRequestsGetTheirOwnResults() throws Exception {
        List<String> bodies = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        String[] prompts = {PROMPT, "In the morning the village", "She looked at the", "The soldiers marched"};
        for (int i = 0; i < 12; i++) {
            String p = prompts[i % prompts.length];
            double coeff = new double[] {0, 4, -4}[i % 3];
            boolean sampled = i % 2 == 1;
            String steering = coeff == 0 ? "" : ", \"steering\": [{\"vector\": \"love\", \"coeff\": " + coeff + "}]";
            String sampling = sampled ? ", \"temperature\": 0.8, \"seed\": " + (100 + i) : ", \"temperature\": 0";
            bodies.add("{\"prompt\": \"" + p + "\", \"max_tokens\": " + (6 + i) + sampling + steering + "}");
            expected.add(alone(p, 6 + i, sampled ? new Sampler(0.8, 0, 1, 100 + i) : Sampler.greedy(), coeff));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(12)) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < bodies.size(); i++) {
                String b = bodies.get(i);
                boolean stream = i % 4 == 0;
                results.add(pool.submit(() -> stream ? streamedText(b) : completion(b)));
            }
            for (int i = 0; i < bodies.size(); i++) assertEquals(expected.get(i), results.get(i).get(), "request " + i + ": " + bodies.get(i));
        }
    }

    static String streamedText(String body) {
        var r = post(server, "/v1/completions", body.substring(0, body.length() - 1) + ", \"stream\": true}");
        assertEquals(200, r.status(), r.text());
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : events(r.text())) text.append(chunk.at("/choices/0/text").asText());
        return text.toString();
    }

    @Test
    void streamingSendsChunksThenUsageThenDone() {
        var r = post(server, "/v1/completions", "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 8, \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        assertEquals(200, r.status());
        assertTrue(r.raw().headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> chunks = events(r.text());
        JsonNode usage = chunks.getLast();
        assertEquals(8, usage.at("/usage/completion_tokens").asInt());
        assertTrue(usage.get("choices").isEmpty());
        JsonNode end = chunks.get(chunks.size() - 2);
        assertEquals("length", end.at("/choices/0/finish_reason").asText());
        StringBuilder text = new StringBuilder();
        for (JsonNode c : chunks.subList(0, chunks.size() - 2)) {
            assertEquals("text_completion", c.get("object").asText());
            assertTrue(c.at("/choices/0/finish_reason").isNull());
            text.append(c.at("/choices/0/text").asText());
        }
        assertTrue(chunks.size() - 2 > 1, "text arrives in several chunks");
        assertEquals(alone(PROMPT, 8, Sampler.greedy(), 0), text.toString());
    }

    @Test
    void chatRendersTheTemplateAndStreamsDeltas() {
        String rendered = "user: Tell me about the village\nassistant:";
        int promptTokens = ServerHarness.tokenizer().encode(rendered, false).length;
        var r = post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me about the village\"}], \"max_tokens\": 9, \"temperature\": 0}");
        assertEquals(200, r.status(), r.text());
        assertEquals("chat.completion", r.json().get("object").asText());
        assertEquals("assistant", r.json().at("/choices/0/message/role").asText());
        assertEquals(promptTokens, r.json().at("/usage/prompt_tokens").asInt());
        var model = ServerHarness.model();
        int[] expected = new Generator(model).generate(ServerHarness.tokenizer().encode(rendered, false), 9, Sampler.greedy(), served.stopIds()).tokens();
        assertEquals(ServerHarness.tokenizer().decode(expected, true), r.json().at("/choices/0/message/content").asText());

        var s = post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me about the village\"}], \"max_tokens\": 9, \"temperature\": 0, \"stream\": true}");
        List<JsonNode> chunks = events(s.text());
        assertEquals("assistant", chunks.getFirst().at("/choices/0/delta/role").asText());
        StringBuilder text = new StringBuilder();
        for (JsonNode c : chunks) {
            assertEquals("chat.completion.chunk", c.get("object").asText());
            text.append(c.at("/choices/0/delta/content").asText(""));
        }
        assertEquals("length", chunks.getLast().at("/choices/0/finish_reason").asText());
        assertEquals(r.json().at("/choices/0/message/content").asText(), text.toString());
    }

    @Test
    void stopStringsEndTheTextBeforeThem() {
        String full = alone(PROMPT, 12, Sampler.greedy(), 0);
        String stop = full.substring(6, 9);
        String text = completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 12, \"temperature\": 0, \"stop\": [\"" + stop + "\"]}");
        assertEquals(full.substring(0, full.indexOf(stop)), text);
        assertEquals(text, streamedText("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 12, \"temperature\": 0, \"stop\": \"" + stop + "\"}"));
    }

    @Test
    void nChoicesAndLogprobs() {
        var r = post(server, "/v1/completions", "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 4, \"temperature\": 1, \"seed\": 7, \"n\": 3, \"logprobs\": 2}");
        assertEquals(200, r.status(), r.text());
        JsonNode choices = r.json().get("choices");
        assertEquals(3, choices.size());
        for (int c = 0; c < 3; c++) {
            assertEquals(c, choices.get(c).get("index").asInt());
            assertEquals(alone(PROMPT, 4, new Sampler(1, 0, 1, 7 + c), 0), choices.get(c).get("text").asText());
            JsonNode lp = choices.get(c).get("logprobs");
            assertEquals(4, lp.get("token_logprobs").size());
            assertEquals(choices.get(c).get("text").asText(), String.join("", lp.get("tokens").valueStream().map(JsonNode::asText).toList()));
            for (int t = 0; t < 4; t++) {
                double chosen = lp.get("token_logprobs").get(t).asDouble();
                assertTrue(chosen <= 0);
                assertEquals(2, lp.get("top_logprobs").get(t).size());
                double best = lp.get("top_logprobs").get(t).valueStream().mapToDouble(JsonNode::asDouble).max().orElseThrow();
                assertTrue(best >= chosen - 1e-12);
            }
        }
        assertEquals(12, r.json().at("/usage/completion_tokens").asInt());
    }

    @Test
    void badRequestsAre400sNamingTheField() {
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", "), 400, null);
        assertError(post(server, "/v1/completions", "[1, 2]"), 400, null);
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"temperature\": \"hot\"}"), 400, "temperature");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 2.5}"), 400, "max_tokens");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 100000}"), 400, "max_tokens");
        assertError(post(server, "/v1/completions", "{\"prompt\": [1, -3]}"), 400, "prompt[1]");
        assertError(post(server, "/v1/completions", "{}"), 400, "prompt");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"n\": 0}"), 400, "n");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"model\": \"gpt-4\"}"), 404, "model");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": \"nope\"}]}"), 400, "steering[0].vector");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": \"love\", \"layer\": 99}]}"), 400, "steering[0].layer");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": [1, 2, 3], \"layer\": 1}]}"), 400, "steering[0].vector");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": \"love\", \"hook\": \"resid_mid\"}]}"), 400, "steering[0]");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": \"love\", \"coeff\": 1e300}]}"), 400, "steering[0].coeff");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": \"love\", \"positions\": \"some\"}]}"), 400, "steering[0].positions");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": {\"vector\": \"love\"}}"), 400, "steering");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"method\": \"calm\"}"), 400, "method");
        assertError(post(server, "/v1/chat/completions", "{\"messages\": \"hi\"}"), 400, "messages");
        assertError(post(server, "/v1/chat/completions", "{\"messages\": [{\"content\": \"hi\"}]}"), 400, "messages[0].role");
        // the server still answers normally afterwards
        assertEquals(alone(PROMPT, 3, Sampler.greedy(), 0), completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 3, \"temperature\": 0}"));
    }

    @Test
    void chatWithoutATemplateIsAClear400() {
        try (SteeringServer plain = ServerHarness.start(ServerHarness.served(false, Map.of()), null, 2, 4)) {
            var r = post(plain, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
            assertError(r, 400, "messages");
            assertTrue(r.json().at("/error/message").asText().contains("no chat template"), r.text());
        }
    }

    static void assertError(ServerHarness.Reply r, int status, String param) {
        assertEquals(status, r.status(), r.text());
        JsonNode e = r.json().get("error");
        assertTrue(e.get("message").asText().length() > 10, r.text());
        assertFalse(e.get("type").asText().isEmpty());
        if (param == null) assertTrue(e.get("param").isNull(), r.text());
        else assertEquals(param, e.get("param").asText(), r.text());
    }

    @Test
    void modelsHealthAndMetrics() {
        var m = get(server, "/v1/models");
        assertEquals("default", m.json().at("/data/0/id").asText());
        assertEquals(200, get(server, "/v1/models/default").status());
        assertEquals(404, get(server, "/v1/models/other").status());
        assertEquals("ok", get(server, "/health").json().get("status").asText());
        completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 2, \"temperature\": 0}");
        String metrics = get(server, "/metrics").text();
        for (String name : List.of("jsteer_requests_total{endpoint=\"/v1/completions\",status=\"200\"}", "jsteer_generation_tokens_total",
                "jsteer_generation_tokens_per_second", "jsteer_queue_length", "jsteer_batch_occupancy", "jsteer_request_duration_seconds_bucket{le=\"+Inf\"}",
                "jsteer_time_to_first_token_seconds_count")) {
            assertTrue(metrics.contains(name), name + " missing from\n" + metrics);
        }
    }

    @Test
    void vectorRegistryAddsReplacesListsAndDeletesWhileServing() throws IOException {
        byte[] file = Files.readAllBytes(ServerHarness.plantedVector());
        assertEquals(201, send(server, "PUT", "/v1/steering/vectors/tmp-1", HttpRequest.BodyPublishers.ofByteArray(file)).status());
        assertEquals(200, send(server, "PUT", "/v1/steering/vectors/tmp-1", HttpRequest.BodyPublishers.ofByteArray(file)).status());
        var list = get(server, "/v1/steering/vectors").json().get("data");
        assertTrue(list.valueStream().anyMatch(e -> e.get("name").asText().equals("tmp-1")), list.toString());
        var one = get(server, "/v1/steering/vectors/tmp-1").json();
        assertEquals("blocks.1.hook_resid_post", one.at("/directions/0/hook").asText());
        assertEquals(192, one.at("/directions/0/width").asInt());
        assertEquals(alone(PROMPT, 5, Sampler.greedy(), 5),
                completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 5, \"temperature\": 0, \"steering\": [{\"vector\": \"tmp-1\", \"coeff\": 5}]}"));
        assertEquals(200, send(server, "DELETE", "/v1/steering/vectors/tmp-1", HttpRequest.BodyPublishers.noBody()).status());
        assertEquals(404, get(server, "/v1/steering/vectors/tmp-1").status());
        assertEquals(404, send(server, "DELETE", "/v1/steering/vectors/tmp-1", HttpRequest.BodyPublishers.noBody()).status());
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"steering\": [{\"vector\": \"tmp-1\"}]}"), 400, "steering[0].vector");

        var garbage = send(server, "PUT", "/v1/steering/vectors/bad", HttpRequest.BodyPublishers.ofString("not a vector file"));
        assertError(garbage, 400, "body");
        assertFalse(garbage.json().at("/error/message").asText().contains("/tmp"), garbage.text());
        assertEquals(404, get(server, "/v1/steering/vectors/bad").status());
        for (String name : List.of("..", "..%2F..%2Fetc%2Fpasswd", ".hidden", "a%2Fb")) {
            int status = send(server, "PUT", "/v1/steering/vectors/" + name, HttpRequest.BodyPublishers.ofByteArray(file)).status();
            assertTrue(status == 400 || status == 404, name + " -> " + status);
        }
        assertTrue(get(server, "/v1/steering/vectors").json().get("data").valueStream().noneMatch(e -> e.get("name").asText().contains("/")));
    }

    @Test
    void maxTokensZeroAndUnsupportedFields() {
        var r = post(server, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 0}");
        assertEquals(200, r.status(), r.text());
        assertEquals("", r.json().at("/choices/0/text").asText());
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"echo\": true}"), 400, "echo");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"presence_penalty\": 0.5}"), 400, "presence_penalty");
    }

    @Test
    void ggufControlVectorsServeTheirLayers(@TempDir Path tmp) throws IOException {
        var v = VectorFiles.load(ServerHarness.plantedVector());
        Path gguf = tmp.resolve("cv.gguf");
        GgufControlVector.write(gguf, "gptneox", List.of(v), 1.0);
        assertEquals(201, send(server, "PUT", "/v1/steering/vectors/cv", HttpRequest.BodyPublishers.ofByteArray(Files.readAllBytes(gguf))).status());
        JsonNode d = get(server, "/v1/steering/vectors/cv").json();
        assertEquals("gguf", d.get("format").asText());
        assertEquals("blocks.1.hook_resid_post", d.at("/directions/0/hook").asText());
        assertEquals(alone(PROMPT, 6, Sampler.greedy(), 5),
                completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 6, \"temperature\": 0, \"steering\": [{\"vector\": \"cv\", \"coeff\": 5}]}"));
        assertEquals(200, send(server, "DELETE", "/v1/steering/vectors/cv", HttpRequest.BodyPublishers.noBody()).status());
    }

    @Test
    void presetsAreAppliedByNameBeforeTheSteeringEntries() {
        assertEquals(alone(PROMPT, 6, Sampler.greedy(), 5), completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 6, \"temperature\": 0, \"method\": \"love5\"}"));
        assertEquals(alone(PROMPT, 6, Sampler.greedy(), 7), completion("{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 6, \"temperature\": 0, \"method\": [\"love5\"],"
                + " \"steering\": [{\"vector\": \"love\", \"coeff\": 2}]}"));
        JsonNode presets = get(server, "/v1/steering/presets").json().get("data");
        assertEquals("love5", presets.get(0).get("name").asText());
        assertTrue(presets.get(0).get("description").asText().contains("blocks.1.hook_resid_post"), presets.toString());
    }

    @Test
    void preloadNamesVectorsByFileNameAndNamesTheFileThatFails(@TempDir Path tmp) throws IOException {
        var v = VectorFiles.load(ServerHarness.plantedVector());
        Files.copy(ServerHarness.plantedVector(), tmp.resolve("planted.safetensors"));
        GgufControlVector.write(tmp.resolve("control.gguf"), "gptneox", List.of(v), 2.0);
        var registry = new VectorRegistry(ServerHarness.model().config(), "default");
        assertEquals(List.of("control", "planted"), registry.preload(tmp).stream().map(VectorRegistry.Entry::name).toList());
        assertEquals("gguf", registry.get("control").orElseThrow().format());
        Files.writeString(tmp.resolve("broken.safetensors"), "not a vector");
        var fresh = new VectorRegistry(ServerHarness.model().config(), "default");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> fresh.preload(tmp));
        assertTrue(e.getMessage().contains("broken.safetensors"), e.getMessage());
    }
}
