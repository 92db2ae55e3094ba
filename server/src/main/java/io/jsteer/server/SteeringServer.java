/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.Status;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jsteer.steering.vector.SteeringVector;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP server: OpenAI-compatible generation endpoints, the steering vector registry, health
 * and metrics, on Helidon SE's WebServer (virtual thread per request: a handler simply blocks on
 * its request's events while the engine thread runs every request's sequences in one batch).
 *
 * <pre>
 *   POST   /v1/completions            POST /v1/chat/completions      GET /v1/models[/{id}]
 *   GET    /v1/steering/vectors[/{name}]   PUT, DELETE /v1/steering/vectors/{name}
 *   GET    /v1/steering/presets       GET /health                    GET /metrics
 * </pre>
 */
public final class SteeringServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SteeringServer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** While a streamed request waits for a token, a comment line this often finds out whether the client is still there. */
    private static final long KEEP_ALIVE_MS = 2000;
    /** How often a waiting handler looks whether its client closed the connection. */
    private static final long WATCH_MS = 100;
    private static final long WATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(WATCH_MS);

    /**
     * @param host          address to listen on ({@code 127.0.0.1} unless the server is meant to be reachable from elsewhere)
     * @param port          port, 0 for any free one
     * @param apiKey        bearer key every request but {@code /health} must present; null for none
     * @param maxBatch      most sequences in one batch
     * @param maxQueue      most sequences waiting to join the batch; beyond, 429
     * @param maxBodyBytes  largest request body (a vector upload included); beyond, 413
     * @param shutdownGrace how long {@link #close} lets running requests finish before cancelling them
     */
    public record Options(String host, int port, String apiKey, int maxBatch, int maxQueue, long maxBodyBytes, Duration shutdownGrace) {
        public Options {
            if (host == null || host.isBlank()) throw new IllegalArgumentException("no host to listen on");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
            if (apiKey != null && apiKey.isEmpty()) throw new IllegalArgumentException("the API key is empty");
            if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
            if (maxQueue < 1) throw new IllegalArgumentException("max queue must be >= 1, got " + maxQueue);
            if (maxBodyBytes < 1024) throw new IllegalArgumentException("max body size must be >= 1024 bytes, got " + maxBodyBytes);
        }

        /** Loopback, port 8080, no key, batches of 8, a queue of 64, 16 MiB bodies, 10 s grace. */
        public static Options defaults() {
            return new Options("127.0.0.1", 8080, null, 8, 64, 16L << 20, Duration.ofSeconds(10));
        }
    }

    private final Served served;
    private final VectorRegistry registry;
    private final Options options;
    private final Scheduler scheduler;
    private final byte[] keyDigest;
    private final ClientWatch clients = new ClientWatch();
    private final long created = System.currentTimeMillis() / 1000;
    private final WebServer web;

    /** Starts serving; {@link #port()} tells where. */
    public SteeringServer(Served served, VectorRegistry registry, Options options) {
        this.served = served;
        this.registry = registry;
        this.options = options;
        this.keyDigest = options.apiKey() == null ? null : sha256(options.apiKey());
        this.scheduler = new Scheduler(served.model(), options.maxBatch(), options.maxQueue());
        try {
            this.web = WebServer.builder()
                    .host(options.host())
                    .port(options.port())
                    .maxPayloadSize(options.maxBodyBytes())
                    .shutdownGracePeriod(options.shutdownGrace())
                    .routing(this::routes)
                    .build()
                    .start();
        } catch (RuntimeException e) {
            scheduler.close();
            throw e;
        }
    }

    public int port() {
        return web.port();
    }

    public VectorRegistry vectors() {
        return registry;
    }

    /** Refuses new work, lets running requests finish within the grace period, cancels the rest, then stops listening. */
    @Override
    public void close() {
        scheduler.shutdown(options.shutdownGrace());
        web.stop();
    }

    private void routes(HttpRouting.Builder r) {
        r.addFilter(this::authorize);
        r.get("/health", (req, res) -> answer("/health", res, () -> {
            ObjectNode o = JSON.createObjectNode().put("status", "ok").put("model", served.id()).put("running_and_queued", scheduler.live());
            return json(res, 200, o);
        }));
        r.get("/metrics", (req, res) -> answer("/metrics", res, () -> {
            res.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            res.send(scheduler.metrics().prometheus().getBytes(StandardCharsets.UTF_8));
            return 200;
        }));
        r.get("/v1/models", (req, res) -> answer("/v1/models", res, () -> {
            ObjectNode o = JSON.createObjectNode().put("object", "list");
            o.putArray("data").add(modelCard());
            return json(res, 200, o);
        }));
        r.get("/v1/models/{id}", (req, res) -> answer("/v1/models/{id}", res, () -> {
            String id = req.path().pathParameters().get("id");
            if (!id.equals(served.id())) throw new ApiException(404, "invalid_request_error", "model", "the model '" + id + "' does not exist; this server serves '" + served.id() + "'");
            return json(res, 200, modelCard());
        }));
        r.post("/v1/completions", (req, res) -> answer("/v1/completions", res, () -> generate(req, res, false)));
        r.post("/v1/chat/completions", (req, res) -> answer("/v1/chat/completions", res, () -> generate(req, res, true)));
        r.get("/v1/steering/presets", (req, res) -> answer("/v1/steering/presets", res, () -> {
            ObjectNode o = JSON.createObjectNode().put("object", "list");
            ArrayNode data = o.putArray("data");
            served.presets().forEach((name, i) -> data.addObject().put("name", name).put("description", i.describe()));
            return json(res, 200, o);
        }));
        r.get("/v1/steering/vectors", (req, res) -> answer("/v1/steering/vectors", res, () -> {
            ObjectNode o = JSON.createObjectNode().put("object", "list");
            ArrayNode data = o.putArray("data");
            for (VectorRegistry.Entry e : registry.list()) data.add(describe(e));
            return json(res, 200, o);
        }));
        r.get("/v1/steering/vectors/{name}", (req, res) -> answer("/v1/steering/vectors/{name}", res, () -> {
            String name = VectorRegistry.checkName(req.path().pathParameters().get("name"));
            return json(res, 200, describe(registry.get(name).orElseThrow(() -> notFound(name))));
        }));
        r.put("/v1/steering/vectors/{name}", (req, res) -> answer("/v1/steering/vectors/{name}", res, () -> {
            String name = VectorRegistry.checkName(req.path().pathParameters().get("name"));
            byte[] body = req.content().as(byte[].class);
            boolean existed = registry.get(name).isPresent();
            VectorRegistry.Entry e = registry.put(name, body);
            LOG.info(() -> (existed ? "replaced" : "added") + " steering vector '" + name + "' (" + e.format() + ", " + e.vectors().size() + " directions)");
            return json(res, existed ? 200 : 201, describe(e));
        }));
        r.delete("/v1/steering/vectors/{name}", (req, res) -> answer("/v1/steering/vectors/{name}", res, () -> {
            String name = VectorRegistry.checkName(req.path().pathParameters().get("name"));
            if (!registry.remove(name)) throw notFound(name);
            return json(res, 200, JSON.createObjectNode().put("name", name).put("object", "steering.vector").put("deleted", true));
        }));
    }

    private static ApiException notFound(String name) {
        return new ApiException(404, "invalid_request_error", "name", "no steering vector named '" + name + "'");
    }

    private ObjectNode modelCard() {
        ObjectNode m = JSON.createObjectNode().put("id", served.id()).put("object", "model").put("created", created).put("owned_by", "jsteer");
        var c = served.model().config();
        m.put("max_model_len", c.maxPositions()).put("hidden_size", c.hiddenSize()).put("num_layers", c.numLayers()).put("chat_template", served.template() != null);
        return m;
    }

    private static ObjectNode describe(VectorRegistry.Entry e) {
        ObjectNode o = JSON.createObjectNode().put("name", e.name()).put("object", "steering.vector").put("format", e.format())
                .put("loaded_at", e.loaded().getEpochSecond());
        ArrayNode dirs = o.putArray("directions");
        for (SteeringVector v : e.vectors()) {
            ObjectNode d = dirs.addObject().put("hook", v.hook().toString()).put("layer", v.hook().layer()).put("width", v.width())
                    .put("norm", v.norm()).put("method", v.method()).put("model", v.model());
            v.parameters().forEach(d.putObject("parameters")::put);
        }
        return o;
    }

    private void authorize(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (keyDigest == null || req.path().path().equals("/health")) {
            chain.proceed();
            return;
        }
        String given = req.headers().first(io.helidon.http.HeaderNames.AUTHORIZATION).orElse("");
        String key = given.regionMatches(true, 0, "Bearer ", 0, 7) ? given.substring(7).trim() : "";
        // digests of equal length compared in constant time: neither the key's bytes nor its length leak through timing
        if (!MessageDigest.isEqual(keyDigest, sha256(key))) {
            res.header("WWW-Authenticate", "Bearer");
            error(res, new ApiException(401, "invalid_request_error", null, given.isEmpty()
                    ? "no API key: send 'Authorization: Bearer <key>'" : "incorrect API key"));
            scheduler.metrics().request(req.path().path(), 401, 0);
            return;
        }
        chain.proceed();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A handler's work: returns the status it sent. */
    @FunctionalInterface
    private interface Work {
        int run() throws Exception;
    }

    /** Runs {@code work}, turning refusals into OpenAI-style error bodies and counting the request. */
    private void answer(String endpoint, ServerResponse res, Work work) {
        long t0 = System.nanoTime();
        int status;
        try {
            status = work.run();
        } catch (ApiException e) {
            status = e.status();
            if (!res.isSent()) error(res, e);
        } catch (Exception e) {
            LOG.log(Level.SEVERE, endpoint + " failed", e);
            status = 500;
            if (!res.isSent()) error(res, new ApiException(500, "server_error", null, "internal error: " + e));
        }
        scheduler.metrics().request(endpoint, status, System.nanoTime() - t0);
    }

    private static void error(ServerResponse res, ApiException e) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error").put("message", e.getMessage()).put("type", e.type());
        err.put("param", e.param());
        err.putNull("code");
        if (e.status() == 429) res.header("Retry-After", "1");
        json(res, e.status(), o);
    }

    private static int json(ServerResponse res, int status, JsonNode body) {
        res.status(Status.create(status));
        res.header("Content-Type", "application/json");
        try {
            res.send(JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return status;
    }

    private static JsonNode body(ServerRequest req) {
        byte[] bytes = req.content().as(byte[].class);
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null) throw ApiException.invalid(null, "the request body is empty; send a JSON object");
            return n;
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
            throw ApiException.invalid(null, "the request body is not valid JSON: " + why);
        }
    }

    private int generate(ServerRequest req, ServerResponse res, boolean chat) throws IOException, InterruptedException {
        JsonNode body = body(req);
        if (body.isObject() && !Fields.absent(body.get("model"))) {
            String model = Fields.string(body.get("model"), "model");
            if (!model.equals(served.id())) throw new ApiException(404, "invalid_request_error", "model", "the model '" + model + "' does not exist; this server serves '" + served.id() + "'");
        }
        GenerationRequest g = chat ? GenerationRequest.chat(body, served, registry) : GenerationRequest.completion(body, served, registry);
        var events = new LinkedBlockingQueue<CompletionJob.Event>();
        List<CompletionJob> jobs = new ArrayList<>();
        int vocab = served.model().config().vocabSize();
        for (int p = 0; p < g.prompts().size(); p++) {
            for (int i = 0; i < g.n(); i++) {
                int c = p * g.n() + i;
                jobs.add(new CompletionJob(c, g.prompts().get(p), g.maxTokens(), g.sampler(c), served.stopIds(), served.tokenizer(), g.stops(),
                        g.topLogprobs(), g.steering(), events, scheduler.metrics(), vocab, served.context()));
            }
        }
        // a prompt's tokens count once for usage, however many choices share it (as OpenAI counts them)
        int promptTokens = g.prompts().stream().mapToInt(a -> a.length).sum();
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long createdAt = System.currentTimeMillis() / 1000;
        Responses out = new Responses(JSON, served, id, createdAt, chat, jobs.size(), g.topLogprobs());
        if (g.maxTokens() == 0) {
            return json(res, 200, out.whole(List.of(), promptTokens));
        }
        BooleanSupplier gone = clients.watch(req);
        scheduler.submit(jobs);
        scheduler.metrics().prompt(promptTokens * g.n());
        if (!g.stream()) {
            List<CompletionJob.Event> all = new ArrayList<>();
            int open = jobs.size();
            long watched = System.nanoTime();
            while (open > 0) {
                CompletionJob.Event e = events.poll(WATCH_MS, TimeUnit.MILLISECONDS);
                if (System.nanoTime() - watched >= WATCH_NANOS) {
                    if (gone.getAsBoolean()) return clientGone(res, jobs);
                    watched = System.nanoTime();
                }
                if (e == null) continue;
                all.add(e);
                if (e.failure() != null) {
                    jobs.forEach(CompletionJob::cancel);
                    throw failure(e.failure());
                }
                if (e.last()) open--;
            }
            if (all.stream().anyMatch(e -> "cancelled".equals(e.finishReason()))) {
                throw new ApiException(503, "server_shutting_down", null, "the server shut down before the request finished");
            }
            return json(res, 200, out.whole(all, promptTokens));
        }

        res.status(Status.OK_200);
        res.header("Content-Type", "text/event-stream; charset=utf-8");
        res.header("Cache-Control", "no-cache");
        res.header("X-Accel-Buffering", "no");
        try (OutputStream os = res.outputStream()) {
            if (chat) for (CompletionJob j : jobs) send(os, out.roleChunk(j.index));
            os.flush();
            int open = jobs.size();
            int generated = 0;
            long quietSince = System.nanoTime();
            long watched = quietSince;
            while (open > 0) {
                CompletionJob.Event e = events.poll(WATCH_MS, TimeUnit.MILLISECONDS);
                if (System.nanoTime() - watched >= WATCH_NANOS) {
                    if (gone.getAsBoolean()) return clientGone(res, jobs);
                    watched = System.nanoTime();
                }
                if (e == null) {
                    if (System.nanoTime() - quietSince >= TimeUnit.MILLISECONDS.toNanos(KEEP_ALIVE_MS)) {
                        // a write also finds a closed connection where the watch cannot
                        os.write(": waiting\n\n".getBytes(StandardCharsets.UTF_8));
                        os.flush();
                        quietSince = System.nanoTime();
                    }
                    continue;
                }
                quietSince = System.nanoTime();
                if (e.failure() != null) {
                    jobs.forEach(CompletionJob::cancel);
                    ApiException f = failure(e.failure());
                    ObjectNode err = JSON.createObjectNode();
                    err.putObject("error").put("message", f.getMessage()).put("type", f.type()).putNull("param").putNull("code");
                    send(os, err);
                    break;
                }
                if (e.last()) {
                    open--;
                    generated += e.completionTokens();
                }
                send(os, out.chunk(e));
            }
            if (g.includeUsage()) send(os, out.usageChunk(promptTokens, generated));
            os.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            os.flush();
        } catch (IOException | UncheckedIOException | ServerConnectionException e) {
            // the client went away: stop its sequences, which frees their batch slots and caches
            jobs.forEach(CompletionJob::cancel);
            return 499;
        } catch (RuntimeException e) {
            // the headers are gone, so no error status can follow: log it and end the stream
            jobs.forEach(CompletionJob::cancel);
            LOG.log(Level.SEVERE, "streaming a response failed", e);
            return 500;
        }
        return 200;
    }

    /**
     * Stops the sequences of a request whose client closed the connection, which frees their batch
     * slots and caches, and ends the exchange (499, nginx's "client closed request"; nobody reads it).
     */
    private static int clientGone(ServerResponse res, List<CompletionJob> jobs) {
        jobs.forEach(CompletionJob::cancel);
        if (!res.isSent()) {
            try {
                error(res, new ApiException(499, "client_closed_request", null, "the client closed the connection"));
            } catch (RuntimeException closed) {
                // the write found the closed connection; there is nobody to tell
            }
        }
        return 499;
    }

    private static void send(OutputStream os, JsonNode chunk) throws IOException {
        os.write("data: ".getBytes(StandardCharsets.UTF_8));
        os.write(JSON.writeValueAsBytes(chunk));
        os.write("\n\n".getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    /** A job's failure as an HTTP error: bad input the engine found is the client's (400), anything else ours (500). */
    private static ApiException failure(Exception e) {
        if (e instanceof IllegalArgumentException) return ApiException.invalid(null, e.getMessage());
        LOG.log(Level.SEVERE, "generation failed", e);
        return new ApiException(500, "server_error", null, "generation failed: " + e.getMessage());
    }
}
