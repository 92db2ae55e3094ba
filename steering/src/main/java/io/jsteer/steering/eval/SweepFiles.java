/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Sweep results as CSV (one row per setting, the headline numbers) and JSON (everything, readable
 * back with {@link #readJson}). Both are written atomically. Undefined statistics (NaN, e.g. the
 * interval of a single item) are empty CSV cells and JSON {@code null}.
 */
public final class SweepFiles {
    private SweepFiles() {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Format tag of the JSON file. */
    static final String FORMAT = "jsteer-sweep/1";

    /** Writes the CSV table: setting, on-target effect, perplexity ratio, each spillover effect. */
    public static void writeCsv(SweepResult result, Path file) {
        AtomicFiles.write(file, csv(result).getBytes(StandardCharsets.UTF_8));
    }

    /** The CSV text of {@link #writeCsv}. */
    public static String csv(SweepResult result) {
        StringBuilder sb = new StringBuilder();
        List<String> header = new ArrayList<>(List.of("layer", "coefficient", "k", "intervention",
                "on_target", "on_target_low", "on_target_high", "on_target_p",
                "ppl_ratio", "ppl_low", "ppl_high", "ppl_p"));
        for (String s : result.spillover()) header.addAll(List.of("spill_" + s, "spill_" + s + "_low", "spill_" + s + "_high", "spill_" + s + "_p"));
        line(sb, header);
        for (SweepRow r : result.rows()) {
            Evaluation e = r.evaluation();
            PerplexityChange p = e.perplexity();
            List<String> cells = new ArrayList<>(List.of(
                    Integer.toString(r.point().layer()), num(r.point().coefficient()),
                    r.point().k().isPresent() ? Integer.toString(r.point().k().getAsInt()) : "", e.intervention()));
            effectCells(cells, e.onTarget());
            cells.addAll(List.of(num(p.ratio()), num(p.low()), num(p.high()), num(p.pValue())));
            for (Effect s : e.spillover()) effectCells(cells, s);
            line(sb, cells);
        }
        return sb.toString();
    }

    private static void effectCells(List<String> cells, Effect e) {
        Summary d = e.difference();
        cells.addAll(List.of(num(d.mean()), num(d.low()), num(d.high()), num(e.pValue())));
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    private static void line(StringBuilder sb, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append(',');
            String c = cells.get(i);
            if (c.indexOf(',') >= 0 || c.indexOf('"') >= 0 || c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0) {
                sb.append('"').append(c.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(c);
            }
        }
        sb.append('\n');
    }

    /** Writes the full result as JSON. */
    public static void writeJson(SweepResult result, Path file) {
        try {
            AtomicFiles.write(file, JSON.writeValueAsBytes(toJson(result)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode sweep result for " + file, e);
        }
    }

    /** Reads a file written by {@link #writeJson}. */
    public static SweepResult readJson(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read sweep result " + file + ": " + e.getMessage(), e);
        }
        try {
            return fromJson(root);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("sweep result " + file + ": " + e.getMessage(), e);
        }
    }

    static ObjectNode toJson(SweepResult result) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("target", result.target());
        ArrayNode spill = root.putArray("spillover");
        result.spillover().forEach(spill::add);
        ArrayNode rows = root.putArray("rows");
        for (SweepRow r : result.rows()) {
            ObjectNode row = rows.addObject();
            row.put("layer", r.point().layer());
            row.put("coefficient", r.point().coefficient());
            if (r.point().k().isPresent()) row.put("k", r.point().k().getAsInt());
            else row.putNull("k");
            Evaluation e = r.evaluation();
            row.put("intervention", e.intervention());
            row.set("on_target", effect(e.onTarget()));
            ObjectNode ppl = effect(e.perplexity().nll());
            ppl.put("ratio", e.perplexity().ratio());
            number(ppl, "ratio_low", e.perplexity().low());
            number(ppl, "ratio_high", e.perplexity().high());
            row.set("perplexity", ppl);
            ArrayNode s = row.putArray("spillover");
            e.spillover().forEach(x -> s.add(effect(x)));
        }
        return root;
    }

    private static ObjectNode effect(Effect e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("measure", e.measure());
        o.set("unsteered", summary(e.unsteered()));
        o.set("steered", summary(e.steered()));
        o.set("difference", summary(e.difference()));
        number(o, "p_value", e.pValue());
        return o;
    }

    private static ObjectNode summary(Summary s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("n", s.n());
        number(o, "mean", s.mean());
        number(o, "sd", s.sd());
        number(o, "low", s.low());
        number(o, "high", s.high());
        return o;
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    static SweepResult fromJson(JsonNode root) {
        if (!FORMAT.equals(root.path("format").asText())) throw new IllegalArgumentException("not a jsteer sweep file (format is '" + root.path("format").asText() + "', expected '" + FORMAT + "')");
        List<String> spill = new ArrayList<>();
        required(root, "spillover").forEach(n -> spill.add(n.asText()));
        List<SweepRow> rows = new ArrayList<>();
        JsonNode rowsNode = required(root, "rows");
        for (int i = 0; i < rowsNode.size(); i++) {
            JsonNode r = rowsNode.get(i);
            try {
                JsonNode k = required(r, "k");
                SweepPoint p = new SweepPoint(required(r, "layer").asInt(), required(r, "coefficient").asDouble(),
                        k.isNull() ? OptionalInt.empty() : OptionalInt.of(k.asInt()));
                List<Effect> s = new ArrayList<>();
                required(r, "spillover").forEach(n -> s.add(effect(n)));
                rows.add(new SweepRow(p, new Evaluation(required(r, "intervention").asText(), effect(required(r, "on_target")),
                        new PerplexityChange(effect(required(r, "perplexity"))), s)));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("row " + i + ": " + e.getMessage(), e);
            }
        }
        return new SweepResult(required(root, "target").asText(), spill, rows);
    }

    private static Effect effect(JsonNode o) {
        return new Effect(required(o, "measure").asText(), summary(required(o, "unsteered")), summary(required(o, "steered")),
                summary(required(o, "difference")), number(o, "p_value"));
    }

    private static Summary summary(JsonNode o) {
        return new Summary(required(o, "n").asInt(), number(o, "mean"), number(o, "sd"), number(o, "low"), number(o, "high"));
    }

    private static double number(JsonNode o, String key) {
        JsonNode v = required(o, key);
        if (v.isNull()) return Double.NaN;
        if (!v.isNumber()) throw new IllegalArgumentException("field '" + key + "' is not a number: " + v);
        return v.asDouble();
    }

    private static JsonNode required(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null) throw new IllegalArgumentException("missing field '" + key + "'");
        return v;
    }
}
