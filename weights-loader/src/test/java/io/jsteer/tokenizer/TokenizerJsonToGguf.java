/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.GgufFile.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The test side's converter of a tokenizer.json (and its tokenizer_config.json) to GGUF tokenizer
 * metadata: a Java copy of fixtures-gguf/tokenizer_to_gguf.py (llama.cpp's converter, which writes
 * through gguf-py), reading the JSON with Jackson alone and sharing no code with the tokenizer under
 * test. {@link #digest} is the script's digest, so a test can check that both converters write the
 * same metadata for the same files (the script's digests are in gguf-tokenizers/digests.txt).
 */
final class TokenizerJsonToGguf {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    private TokenizerJsonToGguf() {}

    /** Writes the GGUF tokenizer of {@code dir}'s tokenizer.json to {@code out}, with tokenizer.ggml.pre {@code pre}. */
    static void convert(Path dir, String pre, Path out) throws IOException {
        JsonNode tok = JSON.readTree(dir.resolve("tokenizer.json").toFile());
        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? JSON.readTree(configFile.toFile()) : null;
        JsonNode model = tok.get("model");
        Map<String, Integer> vocab = new HashMap<>();
        model.get("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().intValue()));
        Map<String, JsonNode> added = new HashMap<>();
        for (JsonNode a : tok.get("added_tokens")) {
            added.put(a.get("content").textValue(), a);
            vocab.putIfAbsent(a.get("content").textValue(), a.get("id").intValue());
        }
        int n = vocab.values().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        String[] reverse = new String[n];
        vocab.forEach((t, i) -> reverse[i] = t);
        boolean spm = model.path("byte_fallback").asBoolean(false);

        List<String> tokens = new ArrayList<>(n);
        List<Integer> types = new ArrayList<>(n);
        List<Float> scores = new ArrayList<>(n);
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : model.get("merges")) {
            if (m.isTextual()) {
                String[] p = m.textValue().split(" ", -1);
                merges.add(p);
            } else {
                merges.add(new String[] {m.get(0).textValue(), m.get(1).textValue()});
            }
        }
        Map<String, Integer> level = spm ? recoveredLevels(merges, vocab) : Map.of();
        String unk = model.path("unk_token").isTextual() ? model.get("unk_token").textValue() : null;
        for (int i = 0; i < n; i++) {
            String t = reverse[i];
            if (t == null) {
                tokens.add("[PAD" + i + "]");
                types.add(UNUSED);
                scores.add(-1000f);
                continue;
            }
            JsonNode a = added.get(t);
            int type;
            float score = 0f;
            if (spm && t.equals(unk)) {
                type = UNKNOWN;
            } else if (a != null && (a.get("special").asBoolean() || looksSpecial(t))) {
                type = CONTROL;
            } else if (a != null) {
                type = USER_DEFINED;
                if (spm) score = level.containsKey(t) ? -(float) level.get(t) : 0f;
                t = t.replace("\u2581", " ");
            } else if (spm && t.matches("<0x[0-9A-Fa-f]{2}>")) {
                type = BYTE;
            } else {
                type = NORMAL;
                if (spm) score = level.containsKey(t) ? -(float) level.get(t) : -(float) ((double) merges.size() + i);
            }
            tokens.add(t);
            types.add(type);
            scores.add(score);
        }

        Map<String, Value> meta = new LinkedHashMap<>();
        meta.put("general.architecture", Value.string("llama"));
        meta.put("tokenizer.ggml.model", Value.string(spm ? "llama" : "gpt2"));
        meta.put("tokenizer.ggml.pre", Value.string(pre));
        meta.put("tokenizer.ggml.tokens", Value.array(GgufFile.TYPE_STRING, tokens));
        if (spm) meta.put("tokenizer.ggml.scores", Value.array(GgufFile.TYPE_FLOAT32, scores));
        meta.put("tokenizer.ggml.token_type", Value.array(GgufFile.TYPE_INT32, types));
        if (spm) meta.put("tokenizer.ggml.add_space_prefix", Value.bool(prependsSpaceMark(tok.get("normalizer"))));
        if (!spm) {
            List<String> lines = new ArrayList<>(merges.size());
            // gguf-py's SpecialVocab writes a space inside a merge part as U+0120
            for (String[] m : merges) lines.add(m[0].replace(' ', '\u0120') + " " + m[1].replace(' ', '\u0120'));
            meta.put("tokenizer.ggml.merges", Value.array(GgufFile.TYPE_STRING, lines));
        }
        specialVocab(tok, config, meta);
        GgufFile.write(out, meta, List.of());
    }

    /** The script's recovered_levels: piece to score level, or to its first merge's index for older files. */
    private static Map<String, Integer> recoveredLevels(List<String[]> merges, Map<String, Integer> vocab) {
        Map<String, Integer> level = new HashMap<>();
        int lv = 0;
        long[] prev = null;
        boolean consistent = true;
        for (String[] m : merges) {
            String p = m[0] + m[1];
            long[] key = {-m[0].codePointCount(0, m[0].length()), -m[1].codePointCount(0, m[1].length()), vocab.get(p)};
            if (prev != null && !greater(key, prev)) lv++;
            if (level.putIfAbsent(p, lv) != null && level.get(p) != lv) {
                consistent = false;
                break;
            }
            prev = key;
        }
        if (consistent) return level;
        Map<String, Integer> first = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) first.putIfAbsent(merges.get(i)[0] + merges.get(i)[1], i);
        return first;
    }

    private static boolean greater(long[] a, long[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) return a[i] > b[i];
        }
        return false;
    }

    /**
     * gguf-py's SpecialVocab, for what these files use: the special ids named in tokenizer_config.json
     * (looked up among the added tokens), add_bos/add_eos/add_sep from the post-processor's template,
     * then add_*_token from tokenizer_config.json.
     */
    private static void specialVocab(JsonNode tok, JsonNode config, Map<String, Value> meta) {
        Map<String, Boolean> add = new LinkedHashMap<>();
        String bosName = config == null ? null : name(config.get("bos_token"));
        String eosName = config == null ? null : name(config.get("eos_token"));
        String sepName = config == null ? null : name(config.get("sep_token"));
        JsonNode post = tok.get("post_processor");
        if (post != null && !post.isNull()) {
            List<JsonNode> processors = new ArrayList<>();
            if (post.has("processors")) post.get("processors").forEach(processors::add);
            else processors.add(post);
            for (JsonNode p : processors) {
                if (!"TemplateProcessing".equals(p.path("type").asText())) continue;
                JsonNode single = p.get("single");
                String first = null;
                String last = null;
                if (single.size() > 1) {
                    first = single.get(0).path("SpecialToken").path("id").asText(null);
                    if (first != null) {
                        if (config == null) bosName = first;
                        add.put("bos", first.equals(bosName));
                    }
                    last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                    if (last != null) {
                        if (config == null) eosName = last;
                        add.put("eos", last.equals(eosName));
                    }
                }
                List<JsonNode> pair = new ArrayList<>();
                p.path("pair").forEach(pair::add);
                if (!pair.isEmpty()) {
                    int start = first != null && first.equals(pair.get(0).path("SpecialToken").path("id").asText(null)) ? 1 : 0;
                    int stop = last != null && last.equals(pair.get(pair.size() - 1).path("SpecialToken").path("id").asText(null)) ? pair.size() - 1 : pair.size();
                    List<JsonNode> middle = pair.subList(start, stop);
                    if (middle.size() > 2 && "A".equals(middle.get(0).path("Sequence").path("id").asText(null))
                            && "B".equals(middle.get(middle.size() - 1).path("Sequence").path("id").asText(null))) {
                        middle = middle.subList(1, middle.size() - 1);
                        boolean sep = false;
                        String entry = middle.get(0).path("SpecialToken").path("id").asText(null);
                        if (entry != null && (entry.equals(sepName) || entry.equals(eosName)) && last == null) sep = true;
                        if (middle.size() == 2) {
                            String second = middle.get(1).path("SpecialToken").path("id").asText(null);
                            if (second != null && (second.equals(sepName) || second.equals(eosName))) sep = true;
                        }
                        add.put("sep", sep);
                    }
                }
            }
        }
        if (config == null) return;
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("bos", "tokenizer.ggml.bos_token_id");
        keys.put("eos", "tokenizer.ggml.eos_token_id");
        keys.put("unk", "tokenizer.ggml.unknown_token_id");
        keys.put("sep", "tokenizer.ggml.seperator_token_id");
        keys.put("pad", "tokenizer.ggml.padding_token_id");
        keys.put("cls", "tokenizer.ggml.cls_token_id");
        keys.put("mask", "tokenizer.ggml.mask_token_id");
        for (Map.Entry<String, String> k : keys.entrySet()) {
            JsonNode flag = config.get("add_" + k.getKey() + "_token");
            if (flag != null && flag.isBoolean()) add.put(k.getKey(), flag.booleanValue());
            String name = k.getKey().equals("eos") ? eosName : k.getKey().equals("bos") ? bosName : name(config.get(k.getKey() + "_token"));
            if (name == null) continue;
            for (JsonNode a : tok.get("added_tokens")) {
                if (a.get("content").textValue().equals(name)) {
                    meta.put(k.getValue(), Value.uint32(a.get("id").intValue()));
                    break;
                }
            }
        }
        add.forEach((typ, v) -> meta.put("tokenizer.ggml.add_" + typ + "_token", Value.bool(v)));
    }

    private static String name(JsonNode entry) {
        if (entry == null) return null;
        if (entry.isTextual()) return entry.textValue();
        if (entry.isObject() && entry.path("content").isTextual()) return entry.get("content").textValue();
        return null;
    }

    private static boolean looksSpecial(String t) {
        return List.of("<pad>", "<mask>", "<2mass>", "[@BOS@]").contains(t) || (t.startsWith("<|") && t.endsWith("|>"))
                || (t.startsWith("<\uff5c") && t.endsWith("\uff5c>")) || (t.startsWith("<unused") && t.endsWith(">"));
    }

    private static boolean prependsSpaceMark(JsonNode normalizer) {
        if (normalizer == null || normalizer.isNull()) return false;
        List<JsonNode> parts = new ArrayList<>();
        if ("Sequence".equals(normalizer.path("type").asText())) normalizer.get("normalizers").forEach(parts::add);
        else parts.add(normalizer);
        for (JsonNode p : parts) {
            if ("Prepend".equals(p.path("type").asText()) && "\u2581".equals(p.path("prepend").asText())) return true;
        }
        return false;
    }

    /** The script's digest of a file's tokenizer.ggml.* metadata (see tokenizer_to_gguf.py). */
    static String digest(Path gguf) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        try (GgufFile f = GgufFile.read(gguf)) {
            for (Map.Entry<String, Object> e : new TreeMap<>(f.metadata()).entrySet()) {
                if (!e.getKey().startsWith("tokenizer.ggml.")) continue;
                line(sha, e.getKey());
                if (e.getValue() instanceof List<?> list) {
                    for (Object o : list) line(sha, value(o));
                } else {
                    line(sha, value(e.getValue()));
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String value(Object o) {
        if (o instanceof Double d) return String.format("%08x", Float.floatToRawIntBits(d.floatValue()));
        return o.toString();
    }

    private static void line(MessageDigest sha, String s) {
        sha.update((s + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
