/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The BPE core on two hand-written tokenizer.json files small enough to work out by hand:
 * {@code tiny-bytelevel.json} (GPT-2 style) and {@code tiny-bytefallback.json} (Gemma style). Each
 * expectation below was derived from the merge ranks in those files; the reference agrees with all
 * of them ({@link #referenceAgreesOnEveryHandComputedCase}).
 */
class TinyTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    static Path resource(String name) {
        try {
            return Path.of(TinyTokenizerTest.class.getResource("/tokenizer/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Text, then expected ids without and with special tokens. */
    private record Case(String text, int[] ids, int[] withSpecials) {}

    // tiny-bytelevel.json: a=1 b=2 c=3 Ġ=4 ab=5 abc=6 Ġa=7 aa=8 Ã=9 ©=10 Ã©=11; <|end|>=0 (special), "  "=12.
    // Merges by rank: 0 "a b", 1 "ab c", 2 "Ġ a", 3 "a a", 4 "Ã ©". The template appends <|end|>.
    private static final List<Case> BYTE_LEVEL = List.of(
            new Case("ab", new int[] {5}, new int[] {5, 0}),
            new Case("abc", new int[] {6}, new int[] {6, 0}),
            // Equal ranks merge leftmost first; the queued (a a) entry at the middle goes stale.
            new Case("aaa", new int[] {8, 1}, new int[] {8, 1, 0}),
            new Case("aaaa", new int[] {8, 8}, new int[] {8, 8, 0}),
            // Rank decides, not position: (a b) rank 0 beats (Ġ a) rank 2 although Ġa is to its left.
            new Case(" ab", new int[] {4, 5}, new int[] {4, 5, 0}),
            // The added "  " is cut out before pre-tokenization.
            new Case("a  b", new int[] {1, 12, 2}, new int[] {1, 12, 2, 0}),
            new Case("a<|end|>b", new int[] {1, 0, 2}, new int[] {1, 0, 2, 0}),
            // NFC composes e + U+0301 to é, whose bytes C3 A9 map to Ã©.
            new Case("e\u0301", new int[] {11}, new int[] {11, 0}),
            // Characters outside the vocabulary, with no unknown token, are dropped.
            new Case("zab", new int[] {5}, new int[] {5, 0}),
            new Case("", new int[] {}, new int[] {0}));

    // tiny-bytefallback.json: <pad>=0 <eos>=1 <bos>=2 <unk>=3 <0xC3>=4 <0xA9>=5 ▁=6 h=7 i=8 hi=9 ▁hi=10
    // <0xE2>=11 ih=12 <turn>=13 (added, not special). Merges: 0 "h i", 1 "▁ hi". <bos> is prepended.
    private static final List<Case> BYTE_FALLBACK = List.of(
            new Case(" hi", new int[] {10}, new int[] {2, 10}),
            new Case("hi hi", new int[] {9, 10}, new int[] {2, 9, 10}),
            // é is not in the vocabulary: its UTF-8 bytes C3 A9 are.
            new Case("hé", new int[] {7, 4, 5}, new int[] {2, 7, 4, 5}),
            // € is E2 82 AC and only <0xE2> exists, so it is unknown; adjacent unknowns fuse.
            new Case("h€€i", new int[] {7, 3, 8}, new int[] {2, 7, 3, 8}),
            new Case("€h€", new int[] {3, 7, 3}, new int[] {2, 3, 7, 3}),
            // "ih" is a token but no merge builds it.
            new Case("ih", new int[] {8, 7}, new int[] {2, 8, 7}),
            new Case("hi<turn> hi", new int[] {9, 13, 10}, new int[] {2, 9, 13, 10}),
            new Case("", new int[] {}, new int[] {2}));

    private static void assertCases(Tokenizer tok, List<Case> cases) {
        for (Case c : cases) {
            assertArrayEquals(c.ids(), tok.encode(c.text()), c.text());
            assertArrayEquals(c.withSpecials(), tok.encode(c.text(), true), c.text() + " with special tokens");
        }
    }

    @Test
    void byteLevelBpe() {
        assertCases(Tokenizers.load(resource("tiny-bytelevel.json")), BYTE_LEVEL);
    }

    @Test
    void byteFallbackBpe() {
        assertCases(Tokenizers.load(resource("tiny-bytefallback.json")), BYTE_FALLBACK);
    }

    @Test
    void mergesAsPairsAndAsStringsAreEquivalent() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(resource("tiny-bytelevel.json").toFile());
        ArrayNode pairs = JSON.createArrayNode();
        for (JsonNode merge : root.get("model").get("merges")) {
            String[] parts = merge.asText().split(" ");
            pairs.add(JSON.createArrayNode().add(parts[0]).add(parts[1]));
        }
        ((ObjectNode) root.get("model")).set("merges", pairs);
        assertCases(Tokenizers.load(write(root, "pairs.json")), BYTE_LEVEL);

        ObjectNode gemma = (ObjectNode) JSON.readTree(resource("tiny-bytefallback.json").toFile());
        ArrayNode strings = JSON.createArrayNode();
        strings.add("#version: 0.2");
        for (JsonNode merge : gemma.get("model").get("merges")) strings.add(merge.get(0).asText() + " " + merge.get(1).asText());
        ((ObjectNode) gemma.get("model")).set("merges", strings);
        assertCases(Tokenizers.load(write(gemma, "strings.json")), BYTE_FALLBACK);
    }

    @Test
    void ignoreMergesTakesWholeWordsFromTheVocabulary() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(resource("tiny-bytefallback.json").toFile());
        ((ObjectNode) root.get("model")).put("ignore_merges", true);
        Tokenizer tok = Tokenizers.load(write(root, "ignore.json"));
        assertArrayEquals(new int[] {12}, tok.encode("ih"));
        assertArrayEquals(new int[] {9, 7}, tok.encode("hih"));
    }

    @Test
    void withoutFuseUnkEachUnknownCharacterIsOneToken() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(resource("tiny-bytefallback.json").toFile());
        ((ObjectNode) root.get("model")).put("fuse_unk", false);
        assertArrayEquals(new int[] {7, 3, 3, 8}, Tokenizers.load(write(root, "nofuse.json")).encode("h€€i"));
    }

    @Test
    void decodeReversesByteFallbackAndSpaces() {
        Tokenizer tok = Tokenizers.load(resource("tiny-bytefallback.json"));
        assertEquals(" hié", tok.decode(new int[] {10, 4, 5}));
        assertEquals("<bos>hi", tok.decode(new int[] {2, 9}));
        assertEquals("hi", tok.decode(new int[] {2, 9}, true));
        // A byte run that is not UTF-8 becomes one U+FFFD per byte.
        assertEquals("\uFFFD\uFFFD\uFFFDh", tok.decode(new int[] {4, 4, 5, 7}));
        // Unknown ids are skipped.
        assertEquals("hi", tok.decode(new int[] {999, 9, -1}));
    }

    @Test
    void decodeReversesByteLevel() {
        Tokenizer tok = Tokenizers.load(resource("tiny-bytelevel.json"));
        assertEquals(" ab  é<|end|>", tok.decode(new int[] {4, 5, 12, 11, 0}));
        assertEquals(" ab  é", tok.decode(new int[] {4, 5, 12, 11, 0}, true));
        // A lone UTF-8 lead byte decodes to U+FFFD.
        assertEquals("a\uFFFD", tok.decode(new int[] {1, 9}));
    }

    @Test
    void vocabularyLookups() {
        Tokenizer tok = Tokenizers.load(resource("tiny-bytelevel.json"));
        assertEquals(13, tok.vocabSize());
        assertEquals("\u0120a", tok.token(7));
        assertEquals("  ", tok.token(12));
        assertEquals(OptionalInt.of(12), tok.id("  "));
        assertEquals(OptionalInt.empty(), tok.id("zz"));
        // <|end|> has no conventional name and the template appends rather than prepends it.
        assertEquals(OptionalInt.empty(), tok.bosId());
        assertEquals(OptionalInt.empty(), tok.eosId());
        assertThrows(IllegalArgumentException.class, () -> tok.token(13));
        Tokenizer gemma = Tokenizers.load(resource("tiny-bytefallback.json"));
        assertEquals(OptionalInt.of(2), gemma.bosId());
        assertEquals(OptionalInt.of(1), gemma.eosId());
        assertTrue(gemma.isSpecial(3));
        assertFalse(gemma.isSpecial(13));
    }

    @Test
    void referenceAgreesOnEveryHandComputedCase() {
        for (var file : List.of("tiny-bytelevel.json", "tiny-bytefallback.json")) {
            List<Case> cases = file.contains("bytelevel") ? BYTE_LEVEL : BYTE_FALLBACK;
            try (HuggingFaceTokenizer ref = ReferenceTokenizers.reference(resource(file))) {
                for (Case c : cases) {
                    assertArrayEquals(c.ids(), ReferenceTokenizers.ids(ref, c.text(), false), file + ": " + c.text());
                    assertArrayEquals(c.withSpecials(), ReferenceTokenizers.ids(ref, c.text(), true), file + ": " + c.text());
                }
            }
        }
    }

    /** Component variants that the real files do not use, each checked against the reference. */
    @Test
    void componentVariantsMatchReference() throws IOException {
        ObjectNode gemma = (ObjectNode) JSON.readTree(resource("tiny-bytefallback.json").toFile());
        gemma.set("normalizer", JSON.readTree("""
                {"type": "Sequence", "normalizers": [
                  {"type": "Prepend", "prepend": "\u2581"},
                  {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}"""));
        assertMatchesReference(write(gemma, "prepend.json"));
        gemma.remove("decoder");
        assertMatchesReference(write(gemma, "nodecoder.json"));

        ObjectNode gpt = (ObjectNode) JSON.readTree(resource("tiny-bytelevel.json").toFile());
        gpt.set("normalizer", JSON.readTree("{\"type\": \"NFKC\"}"));
        gpt.set("pre_tokenizer", JSON.readTree("""
                {"type": "Sequence", "pretokenizers": [
                  {"type": "Split", "pattern": {"Regex": "\\\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false},
                  {"type": "Split", "pattern": {"String": "b"}, "behavior": "MergedWithNext", "invert": false},
                  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}"""));
        gpt.set("post_processor", JSON.createObjectNode().put("type", "Sequence")
                .set("processors", JSON.createArrayNode().add(JSON.readTree("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}"))
                        .add(gpt.get("post_processor"))));
        assertMatchesReference(write(gpt, "sequences.json"));
        ((ObjectNode) gpt.get("pre_tokenizer").get("pretokenizers").get(2)).put("add_prefix_space", true);
        assertMatchesReference(write(gpt, "prefix.json"));
    }

    private static void assertMatchesReference(Path file) {
        Tokenizer tok = Tokenizers.load(file);
        try (HuggingFaceTokenizer ref = ReferenceTokenizers.reference(file)) {
            for (String text : List.of("", " ", "ab abc", " aaa", "a  b", "1234567 ab99c", "abcab ab", "\u00e9 e\u0301 \u2171ab \uFB01",
                    "<|end|>ab", "hi hi", " hih\u00e9", "<turn>hi", "hi <turn> ", "h\u20aci")) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] expected = ReferenceTokenizers.ids(ref, text, special);
                    assertArrayEquals(expected, tok.encode(text, special), file.getFileName() + ": " + text);
                    for (boolean skip : new boolean[] {false, true}) {
                        assertEquals(ref.decode(ReferenceTokenizers.longs(expected), skip), tok.decode(expected, skip),
                                file.getFileName() + ": decode of " + text);
                    }
                }
            }
        }
    }

    private Path write(JsonNode root, String name) throws IOException {
        Path p = temp.resolve(name);
        Files.writeString(p, JSON.writeValueAsString(root));
        return p;
    }
}
