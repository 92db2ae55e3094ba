/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static io.jsteer.tokenizer.ReferenceTokenizers.ids;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.GgufFile.Value;
import io.jsteer.weights.GgufVocabulary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The vocabulary embedded in a GGUF file against the Hugging Face tokenizer it came from: the real
 * tokenizers (Pythia, Gemma 1/2, Gemma 3, Llama 2, 3, 3.1, Qwen 3) converted to GGUF metadata at test
 * time by {@link TokenizerJsonToGguf} (which shares no code with the reader), whose output is first
 * checked to be what llama.cpp's gguf-py writes (the digests of gguf-tokenizers/tokenizer_to_gguf.py);
 * then ids token for token on the whole {@link Corpus}, with and without special tokens, and decoding.
 */
class GgufTokenizerTest {
    @TempDir
    static Path tmp;

    private static Map<String, String> digests() throws IOException {
        Map<String, String> out = new HashMap<>();
        try (InputStream in = GgufTokenizerTest.class.getResourceAsStream("/gguf-tokenizers/digests.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.trim().split(" ");
                out.put(f[0] + " " + f[1], f[2]);
            }
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"pythia, olmo", "gemma, default", "gemma3, default", "llama2, default", "llama3, llama-bpe", "llama3_1, llama-bpe", "qwen3, qwen2"})
    void embeddedVocabularyEncodesAsTheReference(String name, String pre) throws IOException {
        Path json = ReferenceTokenizers.path(name);
        Path gguf = tmp.resolve(name + ".gguf");
        TokenizerJsonToGguf.convert(json.getParent(), pre, gguf);
        assertEquals(digests().get(name + " " + pre), TokenizerJsonToGguf.digest(gguf),
                "the test's converter no longer writes what llama.cpp's gguf-py writes for " + name);

        assertEquals(pre, GgufVocabulary.fromTokenizerJson(json, null).get("tokenizer.ggml.pre").value(), "pre-tokenizer named from tokenizer.json");
        Tokenizer tok = Tokenizers.load(gguf);
        List<String> mismatches = new ArrayList<>();
        try (HuggingFaceTokenizer ref = ReferenceTokenizers.reference(json)) {
            // Llama 3's tokenizer.json adds no BOS (fixed in 3.1); llama.cpp adds one for its pre-tokenizer
            boolean extraBos = name.equals("llama3");
            for (Corpus.Text t : Corpus.all()) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] expected = ids(ref, t.text(), special);
                    if (special && extraBos) expected = prepend(tok.bosId().getAsInt(), expected);
                    int[] actual = tok.encode(t.text(), special);
                    if (!Arrays.equals(expected, actual)) mismatches.add(t.name() + " (special " + special + ")");
                }
                int[] plain = ids(ref, t.text(), false);
                if (!ref.decode(ReferenceTokenizers.longs(plain), false).equals(tok.decode(plain))) mismatches.add(t.name() + " (decode)");
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " texts differ for " + name + ": " + mismatches);
        Tokenizer hf = Tokenizers.load(json);
        assertEquals(hf.vocabSize(), tok.vocabSize());
        for (int id = 0; id < hf.vocabSize(); id += 97) assertEquals(hf.token(id), tok.token(id), "token " + id);
    }

    private static int[] prepend(int id, int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = id;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /** A tiny SentencePiece vocabulary: merges come from the scores, highest first. */
    @Test
    void sentencePieceMergesFollowScores() {
        Map<String, Value> meta = spm(List.of("<unk>", "<s>", "\u2581", "a", "b", "ab", "\u2581a", "\u2581ab"),
                List.of(0f, 0f, -10f, -11f, -12f, -1f, -2f, -3f), List.of(2, 3, 1, 1, 1, 1, 1, 1));
        Path f = write("spm.gguf", meta);
        Tokenizer tok = Tokenizers.load(f);
        // "▁ab": ab (score -1) merges before ▁a (-2), then ▁ + ab -> ▁ab (-3)
        assertArrayEquals(new int[] {7}, tok.encode("ab"));
        assertArrayEquals(new int[] {1, 7, 7}, tok.encode("ab ab", true));
        assertEquals("ab ab", tok.decode(new int[] {1, 7, 7}, true));
        assertEquals(1, tok.bosId().getAsInt());
        // a character outside the vocabulary has no byte token to fall back on: <unk>
        assertArrayEquals(new int[] {6, 0}, tok.encode("ac"));
    }

    @Test
    void badVocabulariesAreRefusedNamingTheKey() {
        Map<String, Value> meta = spm(List.of("<unk>", "a", "a"), List.of(0f, 0f, 0f), List.of(2, 1, 1));
        assertMessage(meta, "dup.gguf", "tokenizer.ggml.tokens: token 'a' appears twice (ids 1 and 2)");
        meta = spm(List.of("<unk>", "a"), List.of(0f), List.of(2, 1));
        assertMessage(meta, "scores.gguf", "tokenizer.ggml.scores: 1 entries for 2 tokens");
        meta = spm(List.of("<unk>", "a"), List.of(0f, 0f), List.of(2, 1));
        meta.put("tokenizer.ggml.bos_token_id", Value.uint32(7));
        assertMessage(meta, "bos.gguf", "tokenizer.ggml.bos_token_id: id 7 is outside the vocabulary of 2 tokens");
        meta = spm(List.of("<unk>", "a"), List.of(0f, 0f), List.of(2, 1));
        meta.put("tokenizer.ggml.model", Value.string("bert"));
        assertMessage(meta, "model.gguf", "tokenizer.ggml.model: 'bert' is not supported (expected gpt2 or llama)");
        meta = new LinkedHashMap<>(Map.of("general.architecture", Value.string("llama"), "tokenizer.ggml.model", Value.string("gpt2"),
                "tokenizer.ggml.pre", Value.string("deepseek-llm"), "tokenizer.ggml.tokens", Value.array(GgufFile.TYPE_STRING, List.of("a"))));
        assertMessage(meta, "pre.gguf", "tokenizer.ggml.pre: pre-tokenizer 'deepseek-llm' is not supported");
        meta.remove("tokenizer.ggml.model");
        assertMessage(meta, "none.gguf", "tokenizer.ggml.model: missing (the file has no embedded vocabulary)");
    }

    private static void assertMessage(Map<String, Value> meta, String file, String expected) {
        Path f = write(file, meta);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(f));
        assertTrue(e.getMessage().startsWith(f + ": " + expected), e.getMessage());
    }

    private static Map<String, Value> spm(List<String> tokens, List<Float> scores, List<Integer> types) {
        Map<String, Value> meta = new LinkedHashMap<>();
        meta.put("general.architecture", Value.string("llama"));
        meta.put("tokenizer.ggml.model", Value.string("llama"));
        meta.put("tokenizer.ggml.tokens", Value.array(GgufFile.TYPE_STRING, tokens));
        meta.put("tokenizer.ggml.scores", Value.array(GgufFile.TYPE_FLOAT32, scores));
        meta.put("tokenizer.ggml.token_type", Value.array(GgufFile.TYPE_INT32, types));
        if (tokens.size() > 1 && tokens.get(1).equals("<s>")) meta.put("tokenizer.ggml.bos_token_id", Value.uint32(1));
        return meta;
    }

    private static Path write(String name, Map<String, Value> meta) {
        Path f = tmp.resolve(name);
        GgufFile.write(f, meta, List.of());
        return f;
    }
}
