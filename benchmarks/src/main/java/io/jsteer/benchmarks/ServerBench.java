/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.server.Served;
import io.jsteer.server.SteeringServer;
import io.jsteer.server.VectorRegistry;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The server under concurrent clients (a benchmark, not a test): {@code jsteer serve}'s
 * {@link SteeringServer} on a generated checkpoint (random weights, real shape; Pythia-410M BF16 by
 * default) on 127.0.0.1, driven by 1, 4, 8 and 16 clients that each send requests back to back:
 * a 16-token prompt, 32 greedy tokens, every other request steered (a random vector added at the
 * middle layer's resid_post). Prints, per client count, the aggregate generated tokens/s, the
 * ratio to one client, and the p50/p99 request latency; every level runs the same number of
 * requests per client after one warm-up request each.
 *
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar io.jsteer.benchmarks.ServerBench DIR TOKENIZER.json [shape:dtype] [requests-per-client]
 * </pre>
 */
public final class ServerBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PROMPT = 16, TOKENS = 32;
    private static final int[] CLIENTS = {1, 4, 8, 16};

    private ServerBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ServerBench DIR TOKENIZER.json [shape:dtype (default pythia-410m:bf16)] [requests per client (default 3)]");
            System.exit(2);
        }
        String spec = args.length > 2 ? args[2] : "pythia-410m:bf16";
        int perClient = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int colon = spec.indexOf(':');
        Path dir = ModelGenerator.model(Path.of(args[0]), ModelShape.of(spec.substring(0, colon)), ModelGenerator.dtype(spec.substring(colon + 1)));
        Model model = Model.load(dir);
        Tokenizer tokenizer = Tokenizers.load(Path.of(args[1]));
        Served served = new Served(spec, model, tokenizer, null, new int[0], Map.of());
        var c = model.config();
        SplittableRandom random = new SplittableRandom(42);
        float[] vector = new float[c.hiddenSize()];
        double norm = 0;
        for (int i = 0; i < vector.length; i++) {
            vector[i] = (float) random.nextGaussian();
            norm += vector[i] * vector[i];
        }
        for (int i = 0; i < vector.length; i++) vector[i] = (float) (4 * vector[i] / Math.sqrt(norm));
        String steering = ", \"steering\": [{\"vector\": " + JSON.writeValueAsString(vector) + ", \"layer\": " + c.numLayers() / 2 + "}]";

        System.out.printf(Locale.ROOT, "== ServerBench %s: prompt %d tokens, %d greedy tokens per request, %d requests per client; %s, %d cores%n",
                spec, PROMPT, TOKENS, perClient, System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors());
        System.out.println("| clients | requests | aggregate tokens/s | x one client | p50 latency (s) | p99 latency (s) |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        double one = 0;
        try (SteeringServer server = new SteeringServer(served, new VectorRegistry(c, spec),
                new SteeringServer.Options("127.0.0.1", 0, null, 16, 256, 64L << 20, Duration.ofSeconds(5)))) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
            for (int clients : CLIENTS) {
                try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
                    // warm-up: one request per client, not measured
                    List<Future<double[]>> warm = new ArrayList<>();
                    for (int k = 0; k < clients; k++) {
                        int seed = k;
                        warm.add(pool.submit(() -> run(http, uri, body(random(seed, c.vocabSize()), seed % 2 == 1 ? steering : ""))));
                    }
                    for (Future<double[]> f : warm) f.get();
                    long t0 = System.nanoTime();
                    List<Future<double[]>> work = new ArrayList<>();
                    for (int k = 0; k < clients; k++) {
                        int client = k;
                        work.add(pool.submit(() -> {
                            double[] out = new double[2 * perClient];
                            for (int r = 0; r < perClient; r++) {
                                int seed = 1000 + client * perClient + r;
                                double[] one1 = run(http, uri, body(random(seed, c.vocabSize()), (client + r) % 2 == 1 ? steering : ""));
                                out[2 * r] = one1[0];
                                out[2 * r + 1] = one1[1];
                            }
                            return out;
                        }));
                    }
                    double tokens = 0;
                    List<Double> latencies = new ArrayList<>();
                    for (Future<double[]> f : work) {
                        double[] r = f.get();
                        for (int i = 0; i < r.length; i += 2) {
                            latencies.add(r[i]);
                            tokens += r[i + 1];
                        }
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double rate = tokens / seconds;
                    if (clients == 1) one = rate;
                    double[] sorted = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                    System.out.printf(Locale.ROOT, "| %d | %d | %.1f | %.2f | %.2f | %.2f |%n", clients, sorted.length, rate, rate / one,
                            quantile(sorted, 0.5), quantile(sorted, 0.99));
                }
            }
        }
    }

    private static int[] random(int seed, int vocab) {
        return new SplittableRandom(seed).ints(PROMPT, 0, vocab).toArray();
    }

    private static String body(int[] prompt, String steering) {
        return "{\"prompt\": " + Arrays.toString(prompt) + ", \"max_tokens\": " + TOKENS + ", \"temperature\": 0" + steering + "}";
    }

    /** Sends one request; returns its latency in seconds and the tokens it generated. */
    private static double[] run(HttpClient http, URI uri, String body) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (r.statusCode() != 200) throw new IllegalStateException("status " + r.statusCode() + ": " + r.body());
        JsonNode usage = JSON.readTree(r.body()).get("usage");
        return new double[] {seconds, usage.get("completion_tokens").asDouble()};
    }

    /** The {@code q} quantile of sorted values, linearly interpolated. */
    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
