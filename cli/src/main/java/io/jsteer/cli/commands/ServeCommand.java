/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.defaultmodel.DefaultModel;
import io.jsteer.cli.io.PromptFiles;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.steer.Contrasts;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.Steering;
import io.jsteer.server.ChatTemplate;
import io.jsteer.server.Served;
import io.jsteer.server.SteeringServer;
import io.jsteer.server.VectorRegistry;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.batch.Engine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs the OpenAI-compatible server (see the server module's README) until interrupted. */
@Command(name = "serve", description = {"Serve a model over HTTP with an OpenAI-compatible API and per-request steering.",
        "Endpoints: /v1/completions, /v1/chat/completions, /v1/models, /v1/steering/vectors[/NAME] (GET, PUT, DELETE),"
                + " /v1/steering/presets, /health, /metrics. Stop with Ctrl-C: running requests get --grace seconds to finish."})
public final class ServeCommand extends CommandBase {
    /** Environment variable read for the API key when {@code --api-key} is not given. */
    static final String API_KEY_ENV = "JSTEER_API_KEY";

    @Mixin
    ModelOptions model;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on. Default: ${DEFAULT-VALUE} (this machine only; 0.0.0.0 exposes the server to the network).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port to listen on (0: any free port). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--vectors", paramLabel = "DIR",
            description = "Preload every vector file in DIR (jsteer .safetensors or GGUF control vectors), each named by its file name without the extension.")
    Path vectors;

    @Option(names = "--preset", paramLabel = "NAME=SPEC@FILE.jsonl",
            description = "A steering preset requests name with \"method\": NAME, fitted at start-up: method SPEC (as --method elsewhere) on the contrast pairs of FILE.jsonl. Repeatable.")
    List<String> presets = List.of();

    @Option(names = "--chat-template", paramLabel = "FILE", description = "Jinja chat template to use instead of the model's own (tokenizer_config.json or chat_template.jinja).")
    Path chatTemplate;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every request but /health (default: $" + API_KEY_ENV + ", else none).")
    String apiKey;

    @Option(names = "--max-batch", paramLabel = "N", description = "Most sequences decoded together (default: what fits a quarter of the free heap, at most 16).")
    Integer maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64", description = "Most sequences waiting for the batch; beyond, requests get 429. Default: ${DEFAULT-VALUE}.")
    int maxQueue;

    @Option(names = "--max-body", paramLabel = "BYTES", defaultValue = "16777216", description = "Largest request body, vector uploads included. Default: ${DEFAULT-VALUE}.")
    long maxBody;

    @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "10", description = "On shutdown, how long running requests may finish before they are cancelled. Default: ${DEFAULT-VALUE}.")
    int grace;

    @Override
    void execute() throws InterruptedException {
        LoadedModel m = model.load(err());
        var tokenizer = m.requireTokenizer("serve");
        ChatTemplate template;
        try {
            template = chatTemplate != null ? ChatTemplate.load(chatTemplate, m.dir()) : ChatTemplate.load(m.dir()).orElse(null);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        String id = m.name().equals(DefaultModel.NAME) ? DefaultModel.NAME : m.dir().toAbsolutePath().normalize().getFileName().toString();
        Map<String, Intervention> fitted = new LinkedHashMap<>();
        for (String p : presets) {
            int eq = p.indexOf('='), at = p.lastIndexOf('@');
            if (eq <= 0 || at < eq + 2 || at == p.length() - 1) throw new UserError("--preset " + p + " is not of the form NAME=SPEC@FILE.jsonl (e.g. love=caa:layer=2@love-war.jsonl)");
            String name = p.substring(0, eq);
            if (fitted.containsKey(name)) throw new UserError("--preset " + name + " is given twice");
            MethodSpec spec = MethodSpec.parse(p.substring(eq + 1, at));
            err().println("Fitting preset '" + name + "' (" + spec.name() + ")...");
            fitted.put(name, Steering.fromMethod(spec, m.model(), Contrasts.tokenize(PromptFiles.contrast(Path.of(p.substring(at + 1))), m)));
        }
        Served served = new Served(id, m.model(), tokenizer, template, Served.stopIds(m.model(), tokenizer, template), fitted);
        VectorRegistry registry = new VectorRegistry(m.model().config(), id);
        if (vectors != null) {
            try {
                for (VectorRegistry.Entry e : registry.preload(vectors)) err().println("Loaded steering vector '" + e.name() + "' (" + e.format() + ")");
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }
        String key = apiKey != null ? apiKey : System.getenv(API_KEY_ENV);
        int batch = maxBatch != null ? Engine.checkBatchSize(maxBatch) : Engine.defaultBatchSize(m.model(), m.model().config().maxPositions());
        SteeringServer.Options options;
        try {
            options = new SteeringServer.Options(host, port, key == null || key.isEmpty() ? null : key, batch, maxQueue, maxBody, Duration.ofSeconds(grace));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        SteeringServer server;
        try {
            server = new SteeringServer(served, registry, options);
        } catch (RuntimeException e) {
            throw new UserError("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err().println("Shutting down: letting running requests finish (up to " + grace + " s)...");
            err().flush();
            server.close();
            stopped.countDown();
        }, "jsteer-shutdown"));
        err().println("Serving '" + id + "' on http://" + host + ":" + server.port() + "/v1 (batch " + batch + ", queue " + maxQueue
                + (template == null ? ", no chat template" : "") + (key == null || key.isEmpty() ? "" : ", API key required") + "). Ctrl-C stops.");
        err().flush();
        stopped.await();
    }
}
