/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static io.jsteer.tokenizer.ReferenceTokenizers.ids;
import static io.jsteer.tokenizer.ReferenceTokenizers.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real GPT-NeoX/Pythia, Gemma 1/2, Gemma 3, Llama 2, Llama 3, Llama 3.1 and Qwen 3 tokenizers
 * against the Hugging Face reference, on
 * the whole {@link Corpus}: ids token for token (with and without special tokens), token strings,
 * decoding of those ids and of every single id and of random id sequences.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenizerReferenceTest {
    private final Map<String, Tokenizer> ours = new HashMap<>();
    private final Map<String, HuggingFaceTokenizer> references = new HashMap<>();
    private final List<Corpus.Text> corpus = Corpus.all();

    private Tokenizer ours(String name) {
        return ours.computeIfAbsent(name, n -> Tokenizers.load(ReferenceTokenizers.path(n)));
    }

    private HuggingFaceTokenizer reference(String name) {
        return references.computeIfAbsent(name, n -> ReferenceTokenizers.reference(ReferenceTokenizers.path(n)));
    }

    @AfterAll
    void closeReferences() {
        references.values().forEach(HuggingFaceTokenizer::close);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia", "gemma", "gemma3", "llama2", "llama3", "llama3_1", "qwen3"})
    void idsMatchReference(String name) {
        Tokenizer tok = ours(name);
        HuggingFaceTokenizer ref = reference(name);
        List<String> mismatches = new ArrayList<>();
        for (Corpus.Text t : corpus) {
            for (boolean special : new boolean[] {false, true}) {
                int[] expected = ids(ref, t.text(), special);
                int[] actual = tok.encode(t.text(), special);
                if (!Arrays.equals(expected, actual)) mismatches.add(t.name() + " (special tokens " + special + "): " + firstDifference(expected, actual));
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + 2 * corpus.size() + " encodings differ:\n" + String.join("\n", mismatches));
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia", "gemma", "gemma3", "llama2", "llama3", "llama3_1", "qwen3"})
    void defaultEncodeAddsNoSpecialTokens(String name) {
        Tokenizer tok = ours(name);
        for (Corpus.Text t : Corpus.cases()) assertArrayEquals(tok.encode(t.text(), false), tok.encode(t.text()), t.name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia", "gemma", "gemma3", "llama2", "llama3", "llama3_1", "qwen3"})
    void tokenStringsMatchReference(String name) {
        Tokenizer tok = ours(name);
        HuggingFaceTokenizer ref = reference(name);
        for (Corpus.Text t : corpus) {
            var encoding = ref.encode(t.text(), true, false);
            long[] refIds = encoding.getIds();
            String[] refTokens = encoding.getTokens();
            for (int i = 0; i < refIds.length; i++) {
                int id = (int) refIds[i];
                assertEquals(refTokens[i], tok.token(id), t.name() + ": token " + i);
                assertEquals(OptionalInt.of(id), tok.id(refTokens[i]), t.name() + ": id of '" + refTokens[i] + "'");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia", "gemma", "gemma3", "llama2", "llama3", "llama3_1", "qwen3"})
    void decodeMatchesReferenceAndRoundTrips(String name) {
        Tokenizer tok = ours(name);
        HuggingFaceTokenizer ref = reference(name);
        int roundTrips = 0;
        for (Corpus.Text t : corpus) {
            int[] withSpecials = ids(ref, t.text(), true);
            for (boolean skip : new boolean[] {false, true}) {
                assertEquals(ref.decode(longs(withSpecials), skip), tok.decode(withSpecials, skip), t.name() + " (skip special " + skip + ")");
            }
            // Round trip wherever the reference round-trips (NFC and lone surrogates are lossy by design).
            if (ref.decode(longs(ids(ref, t.text(), false)), false).equals(t.text())) {
                assertEquals(t.text(), tok.decode(tok.encode(t.text())), t.name() + ": decode(encode(x))");
                roundTrips++;
            }
        }
        assertTrue(roundTrips > corpus.size() * 3 / 4, "only " + roundTrips + " of " + corpus.size() + " texts round-trip in the reference");
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia", "gemma", "gemma3", "llama2", "llama3", "llama3_1", "qwen3"})
    void everySingleTokenDecodesAsInReference(String name) {
        Tokenizer tok = ours(name);
        HuggingFaceTokenizer ref = reference(name);
        int chunk = 8192;
        for (int start = 0; start < tok.vocabSize(); start += chunk) {
            int end = Math.min(tok.vocabSize(), start + chunk);
            long[][] singles = new long[end - start][];
            for (int id = start; id < end; id++) singles[id - start] = new long[] {id};
            String[] plain = ref.batchDecode(singles, false);
            String[] skipped = ref.batchDecode(singles, true);
            for (int id = start; id < end; id++) {
                int[] one = {id};
                assertEquals(plain[id - start], tok.decode(one, false), "decode of id " + id);
                assertEquals(skipped[id - start], tok.decode(one, true), "decode of id " + id + " skipping special tokens");
                // Only special tokens vanish when skipped (every token decodes to something).
                assertEquals(skipped[id - start].isEmpty() && !plain[id - start].isEmpty(), tok.isSpecial(id), "isSpecial(" + id + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pythia", "gemma", "gemma3", "llama2", "llama3", "llama3_1", "qwen3"})
    void randomIdSequencesDecodeAsInReference(String name) {
        Tokenizer tok = ours(name);
        HuggingFaceTokenizer ref = reference(name);
        Random random = new Random(20240229L + name.hashCode());
        int n = 3000;
        long[][] sequences = new long[n][];
        for (int i = 0; i < n; i++) {
            long[] seq = new long[1 + random.nextInt(8)];
            for (int j = 0; j < seq.length; j++) {
                // Mostly low ids (bytes, byte-fallback tokens, specials) where partial UTF-8 is likely; some beyond the vocabulary.
                int bound = random.nextInt(4) == 0 ? tok.vocabSize() + 100 : 1000;
                seq[j] = random.nextInt(bound);
            }
            sequences[i] = seq;
        }
        for (boolean skip : new boolean[] {false, true}) {
            String[] expected = ref.batchDecode(sequences, skip);
            for (int i = 0; i < n; i++) {
                int[] ids = Arrays.stream(sequences[i]).mapToInt(Math::toIntExact).toArray();
                assertEquals(expected[i], tok.decode(ids, skip), Arrays.toString(ids) + " (skip special " + skip + ")");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"pythia, 50277, 0, 0, false", "gemma, 256000, 2, 1, true", "gemma3, 262145, 2, 1, true", "llama2, 32000, 1, 2, true",
            // this package's Llama 3 file has only the ByteLevel post-processor: no <|begin_of_text|> added
            "llama3, 128256, 128000, 128001, false", "llama3_1, 128256, 128000, 128001, true",
            // Qwen names <|endoftext|> for both and adds nothing
            "qwen3, 151669, 151643, 151643, false"})
    void vocabularySizeAndSequenceTokens(String name, int vocabSize, int bos, int eos, boolean prependsBos) {
        Tokenizer tok = ours(name);
        assertEquals(vocabSize, tok.vocabSize());
        assertEquals(OptionalInt.of(bos), tok.bosId());
        assertEquals(OptionalInt.of(eos), tok.eosId());
        assertTrue(tok.isSpecial(bos) && tok.isSpecial(eos));
        int[] plain = tok.encode("Hello");
        int[] framed = tok.encode("Hello", true);
        int[] expected = prependsBos ? IntStream.concat(IntStream.of(bos), IntStream.of(plain)).toArray() : plain;
        assertArrayEquals(expected, framed);
    }

    private static String firstDifference(int[] expected, int[] actual) {
        int i = 0;
        while (i < Math.min(expected.length, actual.length) && expected[i] == actual[i]) i++;
        return "lengths " + expected.length + " vs " + actual.length + ", first difference at " + i + ": expected "
                + Arrays.toString(Arrays.copyOfRange(expected, i, Math.min(expected.length, i + 8))) + " got "
                + Arrays.toString(Arrays.copyOfRange(actual, i, Math.min(actual.length, i + 8)));
    }
}
