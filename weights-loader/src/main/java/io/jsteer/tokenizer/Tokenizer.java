/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back, as a Hugging Face {@code tokenizer.json} defines it; ids match the
 * reference {@code tokenizers} library token for token. Instances are immutable and thread-safe.
 * Obtain one with {@link Tokenizers#load}.
 */
public interface Tokenizer {
    /** The ids of {@code text}, without any special tokens added around it (added tokens written in the text still count). */
    default int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * The ids of {@code text}; with {@code addSpecialTokens}, framed as the file's post-processor says
     * (e.g. Gemma prepends {@code <bos>}; GPT-NeoX adds nothing).
     *
     * <p>Text that is not well-formed UTF-16 (an unpaired surrogate) is tokenized the way the
     * reference receives it from Java, where every surrogate of such a string turns into U+FFFD
     * characters.
     */
    int[] encode(String text, boolean addSpecialTokens);

    /** The text of {@code ids}, special tokens included. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * The text of {@code ids}; with {@code skipSpecialTokens}, special tokens (such as {@code <bos>})
     * are left out. Ids that name no token are ignored, as in the reference.
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** One past the highest token id, counting the added tokens. */
    int vocabSize();

    /**
     * The token string of {@code id} (in the model's alphabet, e.g. {@code Ġworld} or {@code ▁world}).
     *
     * @throws IllegalArgumentException when no token has this id
     */
    String token(int id);

    /** The id of a token string, if it is in the vocabulary. */
    OptionalInt id(String token);

    /** Whether {@code id} is a special (control) token, such as {@code <bos>} or {@code <|endoftext|>}. */
    boolean isSpecial(int id);

    /** The beginning-of-sequence token, where the file defines one. */
    OptionalInt bosId();

    /** The end-of-sequence token, where the file defines one. */
    OptionalInt eosId();
}
