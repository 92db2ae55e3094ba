/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.weights.GgufFile.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face tokenizer.json (with its tokenizer_config.json) as GGUF vocabulary metadata
 * ({@code tokenizer.ggml.*}) the way llama.cpp's {@code convert_hf_to_gguf.py} writes it through
 * gguf-py: byte-level BPE as {@code gpt2} (tokens, types, merges), SentencePiece-style BPE with byte
 * fallback as {@code llama} (tokens, scores, types; the scores recovered from the merge order, see
 * {@link #fromTokenizerJson}), special ids and add_bos/add_eos as gguf-py's {@code SpecialVocab}
 * finds them. Reads the JSON with Jackson alone: it shares no code with the tokenizer that reads the
 * vocabulary back (io.jsteer.tokenizer), so tests can hold one against the other. The metadata for
 * the real Pythia, Gemma 1/2/3, Llama 2/3/3.1 and Qwen 3 tokenizers is tested to be what gguf-py
 * writes (digests of weights-loader's gguf-tokenizers/tokenizer_to_gguf.py).
 */
public final class GgufVocabulary {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    private GgufVocabulary() {}

    /**
     * The vocabulary metadata of {@code tokenizerJson} (and the tokenizer_config.json beside it, where
     * there is one). {@code pre} is {@code tokenizer.ggml.pre}; null to name it from the
     * pre-tokenizer (llama.cpp's converter finds it by hashing a test text's tokens): {@code gpt-2}
     * for GPT-2's byte-level regex, {@code olmo} for the same with NFC (GPT-NeoX-20B/Pythia),
     * {@code llama-bpe} and {@code qwen2} for Llama 3's and Qwen 2's regexes, {@code default} for
     * SentencePiece vocabularies.
     *
     * <p>A tokenizer.json has no SentencePiece scores; they are recovered from its merges, which
     * Hugging Face built from the real scores ({@code generate_merges}: splits ordered by the piece's
     * score, then the lengths of the left and right part, longest first): walking the merges, a new
     * score level starts wherever that order breaks, and all pieces of a level share its score
     * (minus the level). Files made by older converters ordered by score alone; where the walk finds
     * a piece in two levels, a piece scores minus the index of its first merge instead.
     *
     * @throws IOException when a file cannot be read or is not JSON
     * @throws IllegalArgumentException when the tokenizer is of a kind llama.cpp has no vocabulary for
     */
    public static Map<String, Value> fromTokenizerJson(Path tokenizerJson, String pre) throws IOException {
        return fromTokenizerJson(tokenizerJson, pre, 0);
    }

    /**
     * As {@link #fromTokenizerJson(Path, String)} for a model with {@code modelVocab} embedding rows:
     * ids the tokenizer does not use, up to that size, become {@code [PADn]} tokens of type unused,
     * as the converter writes them (llama.cpp wants one token per row).
     *
     * @throws IOException when a file cannot be read or is not JSON
     */
    public static Map<String, Value> fromTokenizerJson(Path tokenizerJson, String pre, int modelVocab) throws IOException {
        JsonNode tok = JSON.readTree(tokenizerJson.toFile());
        Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? JSON.readTree(configFile.toFile()) : null;
        JsonNode model = tok.get("model");
        Map<String, Integer> vocab = new HashMap<>();
        model.get("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().intValue()));
        Map<String, JsonNode> added = new HashMap<>();
        for (JsonNode a : tok.get("added_tokens")) {
            added.put(a.get("content").textValue(), a);
            vocab.putIfAbsent(a.get("content").textValue(), a.get("id").intValue());
        }
        int n = Math.max(modelVocab, vocab.values().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1);
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

        if (!"BPE".equals(model.path("type").asText())) {
            throw new IllegalArgumentException(tokenizerJson + ": model type " + model.path("type").asText() + " has no GGUF vocabulary here (expected BPE)");
        }
        if (pre == null) pre = spm ? "default" : preTokenizerName(tok, tokenizerJson);
        Map<String, Value> meta = new LinkedHashMap<>();
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
        return meta;
    }

    private static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The llama.cpp pre-tokenizer name of a byte-level tokenizer.json, from its pre-tokenizer and normalizer. */
    private static String preTokenizerName(JsonNode tok, Path file) {
        JsonNode p = tok.path("pre_tokenizer");
        boolean nfc = "NFC".equals(tok.path("normalizer").path("type").asText());
        if ("ByteLevel".equals(p.path("type").asText()) && p.path("use_regex").asBoolean(true)) return nfc ? "olmo" : "gpt-2";
        if ("Sequence".equals(p.path("type").asText())) {
            String regex = p.path("pretokenizers").path(0).path("pattern").path("Regex").asText("");
            if (regex.equals(LLAMA3_REGEX)) return "llama-bpe";
            if (regex.equals(QWEN2_REGEX)) return "qwen2";
        }
        throw new IllegalArgumentException(file + ": pre_tokenizer " + p + " is none that llama.cpp names (gpt-2, olmo, llama-bpe, qwen2)");
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
}
