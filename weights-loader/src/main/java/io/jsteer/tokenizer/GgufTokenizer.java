/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Builds the Hugging Face pipeline that a GGUF file's embedded vocabulary ({@code tokenizer.ggml.*},
 * as llama.cpp's {@code convert_hf_to_gguf.py} writes it) stands for, so that encoding matches the
 * model's own {@code tokenizer.json} token for token.
 *
 * <p><b>gpt2</b> (byte-level BPE): tokens and merges as stored; {@code tokenizer.ggml.pre} names the
 * pre-tokenizer, mapped to the Hugging Face one it was hashed from: {@code gpt-2}, {@code olmo}
 * (GPT-NeoX-20B's tokenizer, with its NFC normalizer), {@code llama-bpe}/{@code llama3}/{@code llama-v3}
 * (Llama 3's regex, whole words looked up before merging) and {@code qwen2} (Qwen 2/3's regex, NFC).
 *
 * <p><b>llama</b> (SentencePiece BPE with byte fallback): merges are rebuilt from the scores as
 * Hugging Face's {@code SentencePieceExtractor} builds them for tokenizer.json: every split of every
 * piece into two pieces, ordered by the whole piece's score, then by the lengths of the left and the
 * right half (each highest first; ties keep vocabulary order, and a piece's splits go by the ids of
 * their halves). Older converters ordered by the score alone, which orders the splits of one piece
 * differently; that matters only where two splits of one piece compete (runs of one character). Text is normalized by replacing spaces
 * with U+2581, after prepending one when {@code add_space_prefix} (default true, as in llama.cpp).
 *
 * <p>Both: tokens of type control (3) and unknown (2) are special added tokens, user-defined ones (4)
 * added tokens, all matched in the raw text (the converter stores them pre-normalized; for
 * SentencePiece it turned U+2581 into spaces, which is undone here). {@code add_bos_token} and
 * {@code add_eos_token} frame the ids when special tokens are requested (defaults as llama.cpp's:
 * BOS for SentencePiece and Llama 3, nothing otherwise).
 */
final class GgufTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4;
    private static final String SPACE_MARK = "\u2581";
    private static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private GgufTokenizer() {}

    /**
     * The tokenizer of {@code metadata} (a GGUF file's key/value pairs as {@code GgufFile.metadata()}
     * gives them).
     *
     * @throws IllegalArgumentException naming the key when the vocabulary is missing, inconsistent
     *     or of a kind not supported
     */
    static Tokenizer build(Map<String, Object> metadata) {
        String model = text(metadata, "tokenizer.ggml.model", null);
        if (model == null) throw new IllegalArgumentException("tokenizer.ggml.model: missing (the file has no embedded vocabulary)");
        List<String> tokens = strings(metadata, "tokenizer.ggml.tokens");
        int n = tokens.size();
        int[] types = ints(metadata, "tokenizer.ggml.token_type", n);
        boolean spm = switch (model) {
            case "llama" -> true;
            case "gpt2" -> false;
            default -> throw new IllegalArgumentException("tokenizer.ggml.model: '" + model + "' is not supported (expected gpt2 or llama)");
        };
        List<String> text = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String t = tokens.get(i);
            // the converter wrote user-defined SentencePiece pieces with spaces for U+2581
            text.add(spm && types != null && types[i] == USER_DEFINED ? t.replace(" ", SPACE_MARK) : t);
        }
        Map<String, Integer> vocab = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            Integer before = vocab.putIfAbsent(text.get(i), i);
            if (before != null) {
                throw new IllegalArgumentException("tokenizer.ggml.tokens: token '" + text.get(i) + "' appears twice (ids " + before + " and " + i + ")");
            }
        }
        List<AddedVocabulary.AddedToken> added = new ArrayList<>();
        String unk = null;
        if (types != null) {
            for (int i = 0; i < n; i++) {
                int type = types[i];
                if (type == UNKNOWN && unk == null) unk = text.get(i);
                if (type == CONTROL || type == UNKNOWN || type == USER_DEFINED) {
                    added.add(new AddedVocabulary.AddedToken(i, text.get(i), type != USER_DEFINED, false));
                }
            }
        }
        OptionalInt bos = id(metadata, "tokenizer.ggml.bos_token_id", n);
        OptionalInt eos = id(metadata, "tokenizer.ggml.eos_token_id", n);
        OptionalInt unkId = id(metadata, "tokenizer.ggml.unknown_token_id", n);
        if (unkId.isPresent()) unk = text.get(unkId.getAsInt());

        String pre = text(metadata, "tokenizer.ggml.pre", "default");
        ObjectNode normalizer = null;
        ObjectNode preTokenizer = null;
        ObjectNode decoder;
        Bpe bpe;
        boolean addBosDefault;
        if (spm) {
            boolean spacePrefix = bool(metadata, "tokenizer.ggml.add_space_prefix", true);
            ArrayNode steps = JSON.createArrayNode();
            if (spacePrefix) steps.add(JSON.createObjectNode().put("type", "Prepend").put("prepend", SPACE_MARK));
            steps.add(replace(" ", SPACE_MARK));
            normalizer = JSON.createObjectNode().put("type", "Sequence").set("normalizers", steps);
            ArrayNode decoders = JSON.createArrayNode();
            decoders.add(replace(SPACE_MARK, " "));
            decoders.add(JSON.createObjectNode().put("type", "ByteFallback"));
            decoders.add(JSON.createObjectNode().put("type", "Fuse"));
            if (spacePrefix) decoders.add(JSON.createObjectNode().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0));
            decoder = JSON.createObjectNode().put("type", "Sequence").set("decoders", decoders);
            float[] scores = floats(metadata, "tokenizer.ggml.scores", n);
            bpe = new Bpe(vocab, spmMerges(text, vocab, scores), unk, true, true, false);
            addBosDefault = true;
        } else {
            boolean ignoreMerges = false;
            ObjectNode byteLevel = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
            switch (pre) {
                case "gpt-2" -> preTokenizer = byteLevel.put("use_regex", true);
                case "olmo" -> {
                    normalizer = JSON.createObjectNode().put("type", "NFC");
                    preTokenizer = byteLevel.put("use_regex", true);
                }
                case "llama-bpe", "llama3", "llama-v3" -> {
                    preTokenizer = regexThenBytes(LLAMA3_REGEX, byteLevel);
                    ignoreMerges = true;
                }
                case "qwen2" -> {
                    normalizer = JSON.createObjectNode().put("type", "NFC");
                    preTokenizer = regexThenBytes(QWEN2_REGEX, byteLevel);
                }
                default -> throw new IllegalArgumentException("tokenizer.ggml.pre: pre-tokenizer '" + pre
                        + "' is not supported for gpt2 vocabularies (supported: gpt-2, olmo, llama-bpe, llama3, llama-v3, qwen2)");
            }
            decoder = JSON.createObjectNode().put("type", "ByteLevel");
            bpe = new Bpe(vocab, merges(metadata), null, false, false, ignoreMerges);
            addBosDefault = ignoreMerges;
        }
        boolean addBos = bool(metadata, "tokenizer.ggml.add_bos_token", addBosDefault);
        boolean addEos = bool(metadata, "tokenizer.ggml.add_eos_token", false);
        if (addBos && bos.isEmpty()) throw new IllegalArgumentException("tokenizer.ggml.add_bos_token: true, but tokenizer.ggml.bos_token_id is missing");
        if (addEos && eos.isEmpty()) throw new IllegalArgumentException("tokenizer.ggml.add_eos_token: true, but tokenizer.ggml.eos_token_id is missing");
        PostProcessor post = new PostProcessor.Template(addBos ? new int[] {bos.getAsInt()} : new int[0],
                addEos ? new int[] {eos.getAsInt()} : new int[0]);
        Normalizer norm = Normalizer.parse(normalizer, "normalizer");
        return new HfTokenizer(norm, PreTokenizer.parse(preTokenizer, "pre_tokenizer"), bpe, new AddedVocabulary(added, norm), post,
                Decoder.parse(decoder, "decoder"), bos, eos);
    }

    /**
     * Hugging Face's merges for a SentencePiece vocabulary ({@code generate_merges} of
     * convert_slow_tokenizer): for each piece (in id order), each split into two pieces of the
     * vocabulary, those of one piece ordered by (left id, right id); then all of them stably ordered
     * by the whole piece's score, the left part's length and the right part's length, each highest
     * first.
     */
    private static List<String[]> spmMerges(List<String> text, Map<String, Integer> vocab, float[] scores) {
        record Merge(String left, String right, float score) {}
        List<Merge> merges = new ArrayList<>();
        List<Merge> local = new ArrayList<>();
        for (int id = 0; id < text.size(); id++) {
            String piece = text.get(id);
            local.clear();
            for (int k = 1; k < piece.length(); k++) {
                if (Character.isLowSurrogate(piece.charAt(k))) continue;
                String l = piece.substring(0, k);
                String r = piece.substring(k);
                if (vocab.containsKey(l) && vocab.containsKey(r)) local.add(new Merge(l, r, scores[id]));
            }
            local.sort((a, b) -> {
                int c = Integer.compare(vocab.get(a.left()), vocab.get(b.left()));
                return c != 0 ? c : Integer.compare(vocab.get(a.right()), vocab.get(b.right()));
            });
            merges.addAll(local);
        }
        // numeric comparison (-0 ties with 0), as the converter's Python sort
        merges.sort((a, b) -> {
            if (a.score() != b.score()) return a.score() > b.score() ? -1 : 1;
            int c = Integer.compare(codePoints(b.left()), codePoints(a.left()));
            return c != 0 ? c : Integer.compare(codePoints(b.right()), codePoints(a.right()));
        });
        List<String[]> out = new ArrayList<>(merges.size());
        for (Merge m : merges) out.add(new String[] {m.left(), m.right()});
        return out;
    }

    private static int codePoints(String s) {
        return s.codePointCount(0, s.length());
    }

    private static List<String[]> merges(Map<String, Object> metadata) {
        List<String> lines = strings(metadata, "tokenizer.ggml.merges");
        List<String[]> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw new IllegalArgumentException("tokenizer.ggml.merges[" + i + "]: expected \"left right\" with exactly one space, found \"" + line + "\"");
            }
            out.add(new String[] {line.substring(0, space), line.substring(space + 1)});
        }
        return out;
    }

    private static ObjectNode regexThenBytes(String regex, ObjectNode byteLevel) {
        ObjectNode split = JSON.createObjectNode().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.set("pattern", JSON.createObjectNode().put("Regex", regex));
        ArrayNode steps = JSON.createArrayNode().add(split).add(byteLevel);
        return JSON.createObjectNode().put("type", "Sequence").set("pretokenizers", steps);
    }

    private static ObjectNode replace(String from, String to) {
        ObjectNode r = JSON.createObjectNode().put("type", "Replace").put("content", to);
        r.set("pattern", JSON.createObjectNode().put("String", from));
        return r;
    }

    private static String text(Map<String, Object> metadata, String key, String absent) {
        Object v = metadata.get(key);
        if (v == null) return absent;
        if (!(v instanceof String s)) throw new IllegalArgumentException(key + ": expected a string, found " + describe(v));
        return s;
    }

    private static boolean bool(Map<String, Object> metadata, String key, boolean absent) {
        Object v = metadata.get(key);
        if (v == null) return absent;
        if (!(v instanceof Boolean b)) throw new IllegalArgumentException(key + ": expected a boolean, found " + describe(v));
        return b;
    }

    private static OptionalInt id(Map<String, Object> metadata, String key, int n) {
        Object v = metadata.get(key);
        if (v == null) return OptionalInt.empty();
        if (!(v instanceof Long l)) throw new IllegalArgumentException(key + ": expected an integer, found " + describe(v));
        if (l < 0 || l >= n) throw new IllegalArgumentException(key + ": id " + l + " is outside the vocabulary of " + n + " tokens");
        return OptionalInt.of(l.intValue());
    }

    private static List<?> list(Map<String, Object> metadata, String key) {
        Object v = metadata.get(key);
        if (v == null) throw new IllegalArgumentException(key + ": missing");
        if (!(v instanceof List<?> list)) throw new IllegalArgumentException(key + ": expected an array, found " + describe(v));
        return list;
    }

    private static List<String> strings(Map<String, Object> metadata, String key) {
        List<?> list = list(metadata, key);
        List<String> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) throw new IllegalArgumentException(key + "[" + i + "]: expected a string, found " + describe(list.get(i)));
            if (s.isEmpty()) throw new IllegalArgumentException(key + "[" + i + "]: empty string");
            out.add(s);
        }
        return out;
    }

    /** The integer array of this key, which must have {@code n} entries; null when absent. */
    private static int[] ints(Map<String, Object> metadata, String key, int n) {
        if (!metadata.containsKey(key)) return null;
        List<?> list = list(metadata, key);
        if (list.size() != n) throw new IllegalArgumentException(key + ": " + list.size() + " entries for " + n + " tokens");
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            if (!(list.get(i) instanceof Long l)) throw new IllegalArgumentException(key + "[" + i + "]: expected an integer, found " + describe(list.get(i)));
            out[i] = (int) (long) l;
        }
        return out;
    }

    private static float[] floats(Map<String, Object> metadata, String key, int n) {
        List<?> list = list(metadata, key);
        if (list.size() != n) throw new IllegalArgumentException(key + ": " + list.size() + " entries for " + n + " tokens");
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            if (!(list.get(i) instanceof Double d) || d.isNaN()) {
                throw new IllegalArgumentException(key + "[" + i + "]: expected a number, found " + describe(list.get(i)));
            }
            out[i] = d.floatValue();
        }
        return out;
    }

    private static String describe(Object v) {
        if (v instanceof List<?> l) return "an array of " + l.size();
        return v.getClass().getSimpleName() + " " + v;
    }
}
