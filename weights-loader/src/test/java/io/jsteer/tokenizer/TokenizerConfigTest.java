/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokenizer_config.json} of the real Llama 2, Llama 3, Llama 3.1 and Qwen 3 packages: the chat
 * template where one is shipped, and the special token names, each checked against the tokenizer
 * that loads the {@code tokenizer.json} beside it.
 */
class TokenizerConfigTest {
    @TempDir Path dir;

    private static TokenizerConfig config(String name) {
        return TokenizerConfig.besides(ReferenceTokenizers.path(name)).orElseThrow();
    }

    @Test
    void llama3AndQwen3ShipTheirChatTemplates() {
        String llama3 = config("llama3").chatTemplate().orElseThrow();
        assertTrue(llama3.contains("<|start_header_id|>") && llama3.contains("<|eot_id|>"), llama3);
        String llama31 = config("llama3_1").chatTemplate().orElseThrow();
        assertTrue(llama31.startsWith("{% set loop_messages = messages %}") && llama31.contains("<|start_header_id|>"), llama31);
        String qwen3 = config("qwen3").chatTemplate().orElseThrow();
        assertTrue(qwen3.contains("<|im_start|>") && qwen3.contains("<think>"), qwen3);
        assertEquals(Optional.empty(), config("llama2").chatTemplate());
    }

    @Test
    void specialTokenNamesAreTokensOfTheVocabulary() {
        for (String name : new String[] {"llama2", "llama3", "llama3_1", "qwen3"}) {
            TokenizerConfig c = config(name);
            Tokenizer tok = Tokenizers.load(ReferenceTokenizers.path(name));
            for (Optional<String> token : java.util.List.of(c.bosToken(), c.eosToken())) {
                token.ifPresent(t -> assertTrue(tok.id(t).isPresent() && tok.isSpecial(tok.id(t).getAsInt()), name + ": " + t));
            }
        }
        assertEquals(Optional.of("<s>"), config("llama2").bosToken());
        assertEquals(Optional.of("<|end_of_text|>"), config("llama3").eosToken());
        assertEquals(Optional.of("<|eot_id|>"), config("llama3_1").eosToken());
        assertEquals(Optional.empty(), config("qwen3").bosToken());
        assertEquals(Optional.of("<|im_end|>"), config("qwen3").eosToken());
    }

    @Test
    void namedTemplatesAndAddedTokenObjects() throws IOException {
        Path f = write("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D\"}],"
                + " \"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": null}");
        TokenizerConfig c = TokenizerConfig.load(f);
        assertEquals(Optional.of("D"), c.chatTemplate());
        assertEquals(Optional.of("<s>"), c.bosToken());
        assertEquals(Optional.empty(), c.eosToken());
        assertEquals(Optional.empty(), TokenizerConfig.besides(dir.resolve("elsewhere").resolve("tokenizer.json")));
    }

    @Test
    void malformedFieldsAreNamed() throws IOException {
        assertError("{\"chat_template\": 3}", "'chat_template' must be a string or a list of named templates, got NUMBER");
        assertError("{\"chat_template\": [{\"name\": \"x\", \"template\": \"T\"}]}", "'chat_template' lists no template named 'default'");
        assertError("{\"chat_template\": [{\"name\": \"x\"}]}", "'chat_template'[0] must be an object with string fields 'name' and 'template'");
        assertError("{\"eos_token\": 2}", "'eos_token' must be a string, an object with a string 'content', or null, got 2");
        assertError("[]", "tokenizer config is not a JSON object");
        assertError("{", "invalid JSON");
    }

    private Path write(String json) throws IOException {
        Path f = dir.resolve("tokenizer_config.json");
        Files.writeString(f, json);
        return f;
    }

    private void assertError(String json, String fragment) throws IOException {
        Path f = write(json);
        TokenizerException e = assertThrows(TokenizerException.class, () -> TokenizerConfig.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(fragment), e.getMessage());
    }
}
