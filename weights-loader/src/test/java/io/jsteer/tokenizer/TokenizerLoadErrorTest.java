/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad tokenizer files are refused with a message naming the file and what is wrong where. */
class TokenizerLoadErrorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    private static byte[] tiny() throws IOException {
        return Files.readAllBytes(TinyTokenizerTest.resource("tiny-bytelevel.json"));
    }

    private void assertRefused(Path file, String... fragments) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = temp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** The tiny byte-level file with one edit applied to its JSON tree. */
    private Path edited(String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(tiny());
        edit.accept(root);
        return write(name, JSON.writeValueAsBytes(root));
    }

    private static ObjectNode model(ObjectNode root) {
        return (ObjectNode) root.get("model");
    }

    @Test
    void missingAndEmptyFiles() throws IOException {
        assertRefused(temp.resolve("absent.json"), "no such file");
        assertRefused(write("empty.json", new byte[0]), "empty file");
    }

    @Test
    void truncatedJson() throws IOException {
        byte[] all = tiny();
        assertRefused(write("truncated.json", Arrays.copyOf(all, all.length / 2)), "invalid JSON at line", "end-of-input");
    }

    @Test
    void trailingContentAndWrongTopLevel() throws IOException {
        assertRefused(write("trailing.json", (new String(tiny(), StandardCharsets.UTF_8) + " {}").getBytes(StandardCharsets.UTF_8)),
                "trailing content");
        assertRefused(write("array.json", "[1, 2]".getBytes(StandardCharsets.UTF_8)), "expected a JSON object");
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] all = tiny();
        int at = new String(all, StandardCharsets.ISO_8859_1).indexOf("<|end|>");
        byte[] bad = all.clone();
        bad[at + 1] = (byte) 0xFF;
        assertRefused(write("ff.json", bad), "not valid UTF-8: byte 0xFF at offset " + (at + 1));
        // A UTF-16 surrogate encoded in UTF-8 (ED A0 80) is not UTF-8 either.
        byte[] surrogate = all.clone();
        surrogate[at + 1] = (byte) 0xED;
        surrogate[at + 2] = (byte) 0xA0;
        surrogate[at + 3] = (byte) 0x80;
        assertRefused(write("surrogate.json", surrogate), "not valid UTF-8: byte 0xED at offset " + (at + 1));
    }

    @Test
    void unsupportedComponents() throws IOException {
        assertRefused(edited("wordpiece.json", r -> model(r).put("type", "WordPiece")), "model.type", "unsupported model 'WordPiece'");
        assertRefused(edited("lowercase.json", r -> r.set("normalizer", JSON.createObjectNode().put("type", "Lowercase"))),
                "normalizer.type", "unsupported normalizer 'Lowercase'");
        assertRefused(edited("metaspace.json", r -> r.set("pre_tokenizer", JSON.createObjectNode().put("type", "Sequence")
                        .set("pretokenizers", JSON.createArrayNode().add(JSON.createObjectNode().put("type", "Metaspace"))))),
                "pre_tokenizer.pretokenizers[0].type", "unsupported pre_tokenizer 'Metaspace'");
        assertRefused(edited("ctc.json", r -> r.set("decoder", JSON.createObjectNode().put("type", "CTC"))),
                "decoder.type", "unsupported decoder 'CTC'");
        // Strip (Llama 2) is supported, but only with one character and counts
        assertRefused(edited("strip.json", r -> r.set("decoder", JSON.createObjectNode().put("type", "Strip"))), "decoder.content", "expected a string");
        assertRefused(edited("strip2.json", r -> r.set("decoder", JSON.createObjectNode().put("type", "Strip").put("content", "ab").put("start", 1).put("stop", 0))),
                "decoder.content", "expected one character, found \"ab\"");
        assertRefused(edited("strip3.json", r -> r.set("decoder", JSON.createObjectNode().put("type", "Strip").put("content", " ").put("start", -1).put("stop", 0))),
                "decoder.start", "expected a non-negative integer, found -1");
        assertRefused(edited("bert.json", r -> r.set("post_processor", JSON.createObjectNode().put("type", "BertProcessing"))),
                "post_processor.type", "unsupported post_processor 'BertProcessing'");
        assertRefused(edited("dropout.json", r -> model(r).put("dropout", 0.1)), "model.dropout");
        assertRefused(edited("prefix.json", r -> model(r).put("continuing_subword_prefix", "##")), "model.continuing_subword_prefix");
        assertRefused(edited("lstrip.json", r -> ((ObjectNode) r.get("added_tokens").get(0)).put("lstrip", true)),
                "added_tokens[0].lstrip");
    }

    @Test
    void inconsistentModel() throws IOException {
        assertRefused(edited("merge.json", r -> model(r).withArray("merges").set(1, JSON.getNodeFactory().textNode("ab z"))),
                "model.merges[1]", "'z' is not in model.vocab");
        assertRefused(edited("mergeline.json", r -> model(r).withArray("merges").set(0, JSON.getNodeFactory().textNode("a b c"))),
                "model.merges[0]", "exactly one space");
        assertRefused(edited("sharedid.json", r -> model(r).withObject("vocab").put("zz", 3)), "share id 3");
        assertRefused(edited("negative.json", r -> model(r).withObject("vocab").put("zz", -4)), "model.vocab", "'zz'");
        assertRefused(edited("unk.json", r -> model(r).put("unk_token", "<unk>")), "model.unk_token", "not in model.vocab");
        assertRefused(edited("novocab.json", r -> model(r).remove("vocab")), "model.vocab", "missing");
        assertRefused(edited("addedid.json", r -> ((ObjectNode) r.get("added_tokens").get(1)).put("id", 40)),
                "added_tokens[1].id", "reference assigns 12");
        assertRefused(edited("template.json", r -> ((ObjectNode) r.get("post_processor").get("special_tokens").get("<|end|>"))
                .set("ids", JSON.createArrayNode().add(5))), "post_processor.special_tokens.<|end|>.ids[0]");
        assertRefused(edited("regex.json", r -> r.set("pre_tokenizer", JSON.createObjectNode().put("type", "Split")
                        .put("behavior", "Isolated").put("invert", false)
                        .set("pattern", JSON.createObjectNode().put("Regex", "(unclosed")))),
                "pre_tokenizer.pattern.Regex", "invalid regular expression");
    }

    @Test
    void duplicateVocabularyKey() throws IOException {
        String text = new String(tiny(), StandardCharsets.UTF_8).replace("\"abc\": 6", "\"abc\": 6, \"abc\": 7");
        assertRefused(write("dup.json", text.getBytes(StandardCharsets.UTF_8)), "invalid JSON", "Duplicate field 'abc'");
    }
}
