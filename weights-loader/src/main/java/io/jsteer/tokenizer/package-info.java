/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Tokenizers read from Hugging Face {@code tokenizer.json} files: byte-level BPE (GPT-NeoX, Pythia)
 * and SentencePiece-style BPE with byte fallback (Gemma 1, 2, 3), matching the reference
 * {@code tokenizers} library token for token. Entry point: {@link io.jsteer.tokenizer.Tokenizers#load}.
 */
package io.jsteer.tokenizer;
