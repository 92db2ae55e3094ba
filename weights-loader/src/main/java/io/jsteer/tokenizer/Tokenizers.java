/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.GgufFile;
import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Loads tokenizers from Hugging Face {@code tokenizer.json} files, or from the vocabulary embedded in a
 * GGUF file ({@link #fromGguf}; {@link #load} takes either).
 *
 * <p>Supported components: model BPE (with or without byte fallback); normalizers NFC/NFD/NFKC/NFKD,
 * Replace, Prepend, Sequence; pre-tokenizers ByteLevel, Split, Sequence; post-processors ByteLevel,
 * TemplateProcessing, Sequence; decoders ByteLevel, Replace, ByteFallback, Fuse, Sequence. This
 * covers GPT-NeoX/Pythia (byte-level BPE) and Gemma 1, 2 and 3 (SentencePiece-style BPE). Anything
 * else is refused at load time rather than tokenized differently from the reference. The file's
 * {@code truncation} and {@code padding} settings are ignored: encoding never truncates or pads.
 *
 * <pre>{@code
 * Tokenizer tokenizer = Tokenizers.load(Path.of("models/pythia-70m/tokenizer.json"));
 * int[] ids = tokenizer.encode("Hello world");     // [12092, 1533]
 * String text = tokenizer.decode(ids);
 * }</pre>
 */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * Reads and validates {@code tokenizerJson}: a tokenizer.json, or a GGUF file whose embedded
     * vocabulary is read as {@link #fromGguf} says.
     *
     * @throws TokenizerException naming the file and the offending JSON path when the file is missing,
     *     unreadable, not UTF-8, not JSON (e.g. truncated), or uses an unsupported component
     */
    public static Tokenizer load(Path tokenizerJson) {
        if (Files.isRegularFile(tokenizerJson) && Checkpoint.isGguf(tokenizerJson)) {
            try (GgufFile gguf = GgufFile.read(tokenizerJson)) {
                return fromGguf(tokenizerJson, gguf.metadata());
            } catch (WeightsException e) {
                String prefix = tokenizerJson + ": ";
                String m = e.getMessage();
                throw new TokenizerException(tokenizerJson, m.startsWith(prefix) ? m.substring(prefix.length()) : m, e);
            }
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(tokenizerJson, "no such file", e);
        } catch (IOException e) {
            throw new TokenizerException(tokenizerJson, "cannot read: " + e.getMessage(), e);
        }
        if (bytes.length == 0) throw new TokenizerException(tokenizerJson, "empty file, not a tokenizer.json");
        int invalid = Utf8.firstInvalidOffset(bytes);
        if (invalid >= 0) {
            throw new TokenizerException(tokenizerJson, String.format("not valid UTF-8: byte 0x%02X at offset %d",
                    bytes[invalid] & 0xFF, invalid));
        }
        try {
            return build(TokenizerJson.parse(bytes));
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new TokenizerException(tokenizerJson, "invalid JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerException(tokenizerJson, "cannot parse: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new TokenizerException(tokenizerJson, e.getMessage(), e);
        }
    }

    /**
     * The vocabulary embedded in a GGUF file ({@code tokenizer.ggml.*}, as llama.cpp's converter
     * writes it), as the Hugging Face tokenizer it was converted from: ids equal token for token.
     * Byte-level BPE vocabularies ({@code gpt2}) with the pre-tokenizers {@code gpt-2}, {@code olmo},
     * {@code llama-bpe} and {@code qwen2}, and SentencePiece ones ({@code llama}) are supported.
     *
     * @param file the GGUF file, named in errors
     * @param metadata its metadata, as {@link GgufFile#metadata()} gives it
     * @throws TokenizerException naming the file and the metadata key when the vocabulary is missing,
     *     inconsistent or of an unsupported kind
     */
    public static Tokenizer fromGguf(Path file, Map<String, Object> metadata) {
        try {
            return GgufTokenizer.build(metadata);
        } catch (IllegalArgumentException e) {
            throw new TokenizerException(file, e.getMessage(), e);
        }
    }

    private static Tokenizer build(TokenizerJson.Document doc) {
        JsonNode m = doc.modelFields();
        JsonNode dropout = m.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
            throw JsonSpec.bad("model.dropout", "BPE dropout " + dropout + " is unsupported (it makes encoding random)");
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            JsonNode v = m.get(affix);
            if (v != null && !v.isNull() && !v.asText().isEmpty()) throw JsonSpec.bad("model." + affix, "unsupported: " + v);
        }
        JsonNode unk = m.get("unk_token");
        if (unk != null && !unk.isNull() && !unk.isTextual()) throw JsonSpec.bad("model.unk_token", "expected a string or null, found " + unk);
        Bpe model = new Bpe(doc.vocab(), doc.merges(), unk == null || unk.isNull() ? null : unk.textValue(),
                JsonSpec.bool(m, "byte_fallback", false, "model"), JsonSpec.bool(m, "fuse_unk", false, "model"),
                JsonSpec.bool(m, "ignore_merges", false, "model"));

        Normalizer normalizer = Normalizer.parse(doc.sections().get("normalizer"), "normalizer");
        AddedVocabulary added = new AddedVocabulary(addedTokens(doc.sections().get("added_tokens"), model), normalizer);
        PostProcessor post = PostProcessor.parse(doc.sections().get("post_processor"), "post_processor", token -> {
            Integer id = added.id(token);
            return id != null ? id : model.id(token);
        });
        return new HfTokenizer(normalizer, PreTokenizer.parse(doc.sections().get("pre_tokenizer"), "pre_tokenizer"),
                model, added, post, Decoder.parse(doc.sections().get("decoder"), "decoder"));
    }

    /**
     * The added tokens, with their ids checked against the ids the reference assigns: a token of the
     * model's vocabulary keeps its model id; any other gets the vocabulary's entry count, or one past
     * the highest id assigned so far when that is larger. The reference only warns on a mismatch and
     * uses its own id, so a file that disagrees is refused rather than guessed at.
     */
    private static List<AddedVocabulary.AddedToken> addedTokens(JsonNode node, Bpe model) {
        List<AddedVocabulary.AddedToken> out = new ArrayList<>();
        if (node == null || node.isNull()) return out;
        if (!node.isArray()) throw JsonSpec.bad("added_tokens", "expected an array, found " + JsonSpec.describe(node));
        int vocabEntries = model.entries();
        int maxAssigned = -1;
        for (int i = 0; i < node.size(); i++) {
            String where = "added_tokens[" + i + "]";
            JsonNode t = JsonSpec.requireObject(node.get(i), where);
            JsonNode id = t.get("id");
            if (id == null || !id.canConvertToInt() || !id.isIntegralNumber() || id.intValue() < 0) {
                throw JsonSpec.bad(where + ".id", "expected a non-negative integer, found " + JsonSpec.describe(id));
            }
            String content = JsonSpec.requireText(t, "content", where);
            TokenizerJson.requireWellFormed(content, where + ".content");
            for (String flag : List.of("single_word", "lstrip", "rstrip")) {
                if (JsonSpec.bool(t, flag, false, where)) {
                    throw JsonSpec.bad(where + "." + flag, "added token '" + content + "' sets " + flag + ", which is unsupported");
                }
            }
            Integer inModel = model.id(content);
            int next = maxAssigned < 0 ? vocabEntries : maxAssigned >= vocabEntries ? maxAssigned + 1 : vocabEntries;
            int expected = inModel != null ? inModel : next;
            if (id.intValue() != expected) {
                throw JsonSpec.bad(where + ".id", "token '" + content + "' has id " + id.intValue() + " but the reference assigns "
                        + expected + (inModel != null ? " (its id in model.vocab)" : " (the next id after model.vocab)"));
            }
            maxAssigned = Math.max(maxAssigned, expected);
            out.add(new AddedVocabulary.AddedToken(id.intValue(), content, JsonSpec.bool(t, "special", false, where),
                    JsonSpec.bool(t, "normalized", true, where)));
        }
        return out;
    }
}
