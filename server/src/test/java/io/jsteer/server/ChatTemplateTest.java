/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Gemma chat templates (the {@code tokenizer_config.json} of the Gemma 1/2 and Gemma 3
 * tokenizers, fetched by the build) rendered with Jinjava. The expected strings are Gemma's
 * documented turn format, written out by hand: {@code <bos><start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n}.
 */
class ChatTemplateTest {
    static Path tokenizers() {
        String dir = System.getProperty("jsteer.tokenizers.dir");
        if (dir == null) throw new IllegalStateException("jsteer.tokenizers.dir is not set (the Maven build sets it)");
        return Path.of(dir);
    }

    static ChatTemplate gemma(String which) {
        return ChatTemplate.load(tokenizers().resolve(which)).orElseThrow();
    }

    static Map<String, Object> msg(String role, Object content) {
        return Map.of("role", role, "content", content);
    }

    @Test
    void gemmaTurnsWithGenerationPrompt() {
        String out = gemma("gemma").render(List.of(msg("user", "  Hello there \n"), msg("assistant", "Hi!"), msg("user", "Tell me a story.")), true);
        assertEquals("<bos><start_of_turn>user\nHello there<end_of_turn>\n<start_of_turn>model\nHi!<end_of_turn>\n"
                + "<start_of_turn>user\nTell me a story.<end_of_turn>\n<start_of_turn>model\n", out);
    }

    @Test
    void gemmaWithoutGenerationPrompt() {
        assertEquals("<bos><start_of_turn>user\nHi<end_of_turn>\n", gemma("gemma").render(List.of(msg("user", "Hi")), false));
    }

    @Test
    void gemmaRefusesASystemTurnWithTheTemplatesOwnMessage() {
        ApiException e = assertThrows(ApiException.class, () -> gemma("gemma").render(List.of(msg("system", "Be brief."), msg("user", "Hi")), true));
        assertEquals(400, e.status());
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().contains("System role not supported"), e.getMessage());
    }

    @Test
    void gemmaRefusesTurnsThatDoNotAlternate() {
        ApiException e = assertThrows(ApiException.class, () -> gemma("gemma").render(List.of(msg("user", "a"), msg("user", "b")), true));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void gemma3FoldsTheSystemPromptIntoTheFirstUserTurn() {
        String out = gemma("gemma3").render(List.of(msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello."), msg("user", "Bye")), true);
        assertEquals("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
                + "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n", out);
    }

    @Test
    void gemma3TakesContentParts() {
        String out = gemma("gemma3").render(List.of(msg("user", List.of(Map.of("type", "text", "text", " part one "), Map.of("type", "text", "text", "two")))), true);
        assertEquals("<bos><start_of_turn>user\npart onetwo<end_of_turn>\n<start_of_turn>model\n", out);
    }

    @Test
    void renderedGemmaPromptTokenizesWithOneBosAndTheTurnMarkersAsSingleTokens() {
        Tokenizer t = Tokenizers.load(tokenizers().resolve("gemma/tokenizer.json"));
        int[] ids = t.encode(gemma("gemma").render(List.of(msg("user", "Hi")), true), false);
        assertEquals(t.bosId().getAsInt(), ids[0]);
        assertTrue(ids[1] != t.bosId().getAsInt());
        assertEquals(t.id("<start_of_turn>").getAsInt(), ids[1]);
        assertEquals(t.id("<start_of_turn>").getAsInt(), ids[ids.length - 3]);
    }

    @Test
    void eosTokenOfGemma3IsEndOfTurn() {
        assertEquals("<end_of_turn>", gemma("gemma3").specialToken("eos_token").orElseThrow());
    }

    @Test
    void noTemplateIsEmptyAndABrokenConfigNamesTheFile(@TempDir Path dir) throws IOException {
        assertTrue(ChatTemplate.load(dir).isEmpty());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        assertTrue(ChatTemplate.load(dir).isEmpty());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.load(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("chat_template"), e.getMessage());
    }
}
