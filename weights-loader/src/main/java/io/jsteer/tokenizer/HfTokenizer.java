/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The Hugging Face tokenization pipeline: added tokens are cut out of the raw text, the rest is
 * normalized, added tokens are cut out again (those matched on normalized text), pre-tokenized
 * into words, and each word is tokenized by the BPE model; the post-processor then frames the ids
 * with special tokens on request. Decoding maps ids to token strings and runs the decoder chain.
 */
final class HfTokenizer implements Tokenizer {
    /** Conventional names for the sequence-delimiting tokens, which tokenizer.json does not mark as such. */
    private static final List<String> BOS_NAMES = List.of("<bos>", "<s>", "<|begin_of_text|>", "<|endoftext|>");
    private static final List<String> EOS_NAMES = List.of("<eos>", "</s>", "<|end_of_text|>", "<|endoftext|>");

    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Bpe model;
    private final AddedVocabulary added;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final int vocabSize;
    private final OptionalInt bos;
    private final OptionalInt eos;

    HfTokenizer(Normalizer normalizer, PreTokenizer preTokenizer, Bpe model, AddedVocabulary added,
            PostProcessor postProcessor, Decoder decoder) {
        this(normalizer, preTokenizer, model, added, postProcessor, decoder, null, null);
    }

    /** With the sequence-delimiting tokens given (a GGUF file names them), or null to find them as above. */
    HfTokenizer(Normalizer normalizer, PreTokenizer preTokenizer, Bpe model, AddedVocabulary added,
            PostProcessor postProcessor, Decoder decoder, OptionalInt bos, OptionalInt eos) {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.added = added;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.vocabSize = Math.max(model.size(), added.maxId() + 1);
        this.bos = bos != null ? bos : findBos();
        this.eos = eos != null ? eos : findSpecial(EOS_NAMES);
    }

    /**
     * The token the post-processor puts first, else a special token with a conventional name (the
     * roles live in tokenizer_config.json, which is not read).
     */
    private OptionalInt findBos() {
        // -1 is no token id, so whatever the post-processor puts before it is a prefix.
        int[] framed = postProcessor.apply(new int[] {-1});
        if (framed.length > 1 && framed[0] != -1) return OptionalInt.of(framed[0]);
        return findSpecial(BOS_NAMES);
    }

    private OptionalInt findSpecial(List<String> names) {
        for (String name : names) {
            Integer id = added.id(name);
            if (id != null && added.isSpecial(name)) return OptionalInt.of(id);
        }
        return OptionalInt.empty();
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        String input = Utf8.asReferenceSeesIt(text);
        IntList ids = new IntList(input.length() / 3 + 4);
        List<String> words = new ArrayList<>();
        AddedVocabulary.Sink modelInput = new AddedVocabulary.Sink() {
            @Override
            public void text(String piece) {
                words.clear();
                preTokenizer.split(piece, words);
                for (String word : words) model.tokenize(word, ids);
            }

            @Override
            public void token(int id) {
                ids.add(id);
            }
        };
        added.splitRaw(input, new AddedVocabulary.Sink() {
            @Override
            public void text(String piece) {
                added.splitNormalized(normalizer.normalize(piece), modelInput);
            }

            @Override
            public void token(int id) {
                ids.add(id);
            }
        });
        int[] result = ids.toArray();
        return addSpecialTokens ? postProcessor.apply(result) : result;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = tokenOrNull(id);
            if (t != null && !(skipSpecialTokens && added.isSpecial(t))) tokens.add(t);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    private String tokenOrNull(int id) {
        String t = added.content(id);
        return t != null ? t : model.token(id);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public String token(int id) {
        String t = tokenOrNull(id);
        if (t == null) throw new IllegalArgumentException("no token has id " + id + " (vocabulary size " + vocabSize + ")");
        return t;
    }

    @Override
    public OptionalInt id(String token) {
        Integer id = added.id(token);
        if (id == null) id = model.id(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public boolean isSpecial(int id) {
        String t = tokenOrNull(id);
        return t != null && added.isSpecial(t);
    }

    @Override
    public OptionalInt bosId() {
        return bos;
    }

    @Override
    public OptionalInt eosId() {
        return eos;
    }
}
