/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns {@link Samples#RESULTS} into the Markdown tables of {@code RESULTS.md}. When a
 * configuration was measured more than once the last line wins.
 *
 * <pre>Report BENCH_DIR</pre>
 */
public final class Report {
    /** Decode time may be at most this factor of the roofline time. */
    private static final double DECODE_TARGET = 0.90;
    private static final double STEERING_TARGET_PERCENT = 1.0;
    private static final double RSS_TARGET = 1.15;

    private Report() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Report BENCH_DIR");
            System.exit(2);
        }
        Map<String, JsonNode> latest = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(Path.of(args[0]).resolve(Samples.RESULTS))) {
            if (line.isBlank()) continue;
            JsonNode o = json.readTree(line);
            String key = o.path("bench").asText() + "|" + o.path("model").asText() + "|" + o.path("dtype").asText() + "|" + o.path("bits").asText() + "|" + o.path("positions").asText();
            latest.remove(key);
            latest.put(key, o);
        }
        List<JsonNode> all = new ArrayList<>(latest.values());
        StringBuilder md = new StringBuilder();
        matvec(md, all);
        decode(md, all);
        prefill(md, all);
        hooks(md, all);
        rss(md, all);
        System.out.print(md);
    }

    private static void matvec(StringBuilder md, List<JsonNode> all) {
        md.append("### Matrix-vector product (one token), 8192 x 8192, both cores\n\n");
        md.append("| dtype | vector bits | matvec GB/s | streaming read GB/s | matvec / stream |\n|---|---|---|---|---|\n");
        for (JsonNode o : of(all, "matvec")) {
            double bytes = o.get("bytes").asDouble(), mv = o.get("matvec_ms").asDouble(), st = o.get("stream_ms").asDouble();
            md.append(row(o.get("dtype").asText(), o.get("bits").asText(), f1(bytes / mv / 1e6), f1(bytes / st / 1e6), pct(st / mv)));
        }
        md.append('\n');
    }

    private static void decode(StringBuilder md, List<JsonNode> all) {
        String context = first(all, "decode", "context"), span = first(all, "decode", "span");
        String positions = !span.matches("\\d+") || !context.matches("\\d+") ? "" : ", at positions " + context + "-" + (Integer.parseInt(context) + Integer.parseInt(span) - 1);
        md.append("### Decode (one token after a ").append(context).append("-token prompt").append(positions).append("), both cores\n\n");
        md.append("Roofline = weight bytes per token / streaming-read bandwidth of the model file measured in the same invocations; ")
                .append("\"of roofline\" compares the medians of both, \"paired\" is the median over invocations of each token against the read that followed it. ")
                .append("Steering = the same decode with an activation-addition hook at resid_post of the middle layer.\n\n");
        md.append("| model | weights read / token | ms / token | tokens/s | read GB/s | roofline tokens/s | of roofline | paired | steered ms / token | steering cost |\n")
                .append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (JsonNode o : of(all, "decode")) {
            double bpt = o.get("bytes_per_token").asDouble(), file = o.get("file_bytes").asDouble();
            double token = o.get("token_ms").asDouble(), steered = o.get("steered_ms").asDouble(), stream = o.get("stream_ms").asDouble();
            double bw = file / stream / 1e6, rooflineMs = bpt / (bw * 1e6);
            JsonNode paired = o.get("stream_per_token_paired");
            md.append(row(o.get("model").asText(), mb(bpt), f2(token), f1(1000 / token), f1(bw), f1(1000 / rooflineMs),
                    pct(rooflineMs / token) + mark(rooflineMs / token >= DECODE_TARGET),
                    paired == null ? "n/a" : pct(bpt / file * paired.asDouble()), f2(steered),
                    String.format(Locale.ROOT, "%+.1f%%", 100 * (steered - token) / token)));
        }
        md.append('\n');
    }

    private static void prefill(StringBuilder md, List<JsonNode> all) {
        md.append("### Prefill (one forward pass over a fresh prompt, last logits only), both cores\n\n");
        md.append("GFLOP/s counts the weight products only: 2 x weights read per token x prompt length.\n\n");
        md.append("| model | prompt | ms | tokens/s | GFLOP/s |\n|---|---|---|---|---|\n");
        for (JsonNode o : of(all, "prefill")) {
            double ms = o.get("prefill_ms").asDouble(), t = o.get("prompt").asDouble();
            double elems = o.get("bytes_per_token").asDouble() / bytesPerElement(o.get("model").asText());
            md.append(row(o.get("model").asText(), o.get("prompt").asText(), f1(ms), f1(1000 * t / ms), f1(2 * elems * t / ms / 1e6)));
        }
        md.append('\n');
    }

    private static void hooks(StringBuilder md, List<JsonNode> all) {
        md.append("### Steering hook alone (activation addition over one row, per decoded token)\n\n");
        md.append("| model | hidden | ns / token | of a bf16 decoded token |\n|---|---|---|---|\n");
        for (JsonNode o : of(all, "hook")) {
            double ns = o.get("hooks_ms").asDouble() * 1e6 / o.get("calls_per_sample").asDouble();
            JsonNode decode = find(all, "decode", o.get("model").asText());
            String share = decode == null ? "n/a" : String.format(Locale.ROOT, "%.4f%%", 100 * ns / (decode.get("token_ms").asDouble() * 1e6))
                    + mark(100 * ns / (decode.get("token_ms").asDouble() * 1e6) <= STEERING_TARGET_PERCENT);
            md.append(row(o.get("model").asText(), o.get("hidden").asText(), f1(ns), share));
        }
        md.append('\n');
    }

    private static void rss(StringBuilder md, List<JsonNode> all) {
        md.append("### Peak resident memory (separate JVM: load, prompt, decode; VmHWM)\n\n");
        md.append("At the end, the resident set splits into file-backed pages (the mapped weights; Pythia's input embedding is only touched ")
                .append("row by row) and anonymous memory (Java heap, JIT code and the JVM's own data).\n\n");
        md.append("| model | positions | weights file | KV cache | max heap | peak RSS | file-backed | anonymous | peak / (file + KV) |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        for (JsonNode o : of(all, "rss")) {
            double file = o.get("file_bytes").asDouble(), kv = o.get("kv_bytes").asDouble(), hwm = o.get("VmHWM_bytes").asDouble();
            md.append(row(o.get("model").asText(), o.get("positions").asText(), mb(file), mb(kv), mb(o.get("max_heap_bytes").asDouble()), mb(hwm),
                    mb(o.get("RssFile_bytes").asDouble()), mb(o.get("RssAnon_bytes").asDouble()),
                    String.format(Locale.ROOT, "%.3f", hwm / (file + kv)) + mark(hwm <= RSS_TARGET * file + kv)));
        }
        md.append('\n');
    }

    private static double bytesPerElement(String model) {
        return model.endsWith("f32") ? 4 : 2;
    }

    private static List<JsonNode> of(List<JsonNode> all, String bench) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode o : all) if (o.path("bench").asText().equals(bench)) out.add(o);
        return out;
    }

    private static JsonNode find(List<JsonNode> all, String bench, String model) {
        for (JsonNode o : of(all, bench)) if (o.path("model").asText().equals(model)) return o;
        return null;
    }

    private static String first(List<JsonNode> all, String bench, String field) {
        List<JsonNode> l = of(all, bench);
        return l.isEmpty() ? "?" : l.get(0).path(field).asText();
    }

    private static String row(String... cells) {
        return "| " + String.join(" | ", cells) + " |\n";
    }

    private static String mark(boolean met) {
        return met ? " (met)" : " (missed)";
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String f2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String pct(double v) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * v);
    }

    private static String mb(double bytes) {
        return bytes >= 1e9 ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9) : String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
