/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Model families the transformer implements, keyed by the {@code architectures} entry of config.json. */
public enum Architecture {
    /** GPT-NeoX (Pythia): LayerNorm, GeLU MLP, partial RoPE, parallel or sequential residual. */
    GPT_NEOX("GPTNeoXForCausalLM"),
    /** Gemma 1: RMSNorm(1 + w), GeGLU, multi-query or grouped attention. */
    GEMMA("GemmaForCausalLM"),
    /** Gemma 2: Gemma 1 with sliding-window layers, logit soft-caps and norms after each branch. */
    GEMMA2("Gemma2ForCausalLM"),
    /** Gemma 3 (text): Gemma 2 with query/key norms and separate local and global RoPE bases. */
    GEMMA3("Gemma3ForCausalLM"),
    /** Llama 2, 3, 3.1, 3.2. */
    LLAMA("LlamaForCausalLM"),
    /** Mistral: the Llama block with sliding-window attention. */
    MISTRAL("MistralForCausalLM"),
    /** Qwen 2 and 2.5. */
    QWEN2("Qwen2ForCausalLM"),
    /** Qwen 3: the Llama block with query/key RMSNorm. */
    QWEN3("Qwen3ForCausalLM");

    private final String hfName;

    Architecture(String hfName) {
        this.hfName = hfName;
    }

    /** The Hugging Face class name in config.json. */
    public String hfName() {
        return hfName;
    }

    /** Gemma 1, 2 or 3: RMSNorm weights stored as an offset from one and embeddings scaled by sqrt(hidden). */
    public boolean isGemma() {
        return this == GEMMA || this == GEMMA2 || this == GEMMA3;
    }

    /** Llama, Mistral, Qwen 2 or Qwen 3: the Llama block (RMSNorm, SwiGLU, rotate-half RoPE) with its variations. */
    public boolean isLlamaLike() {
        return this == LLAMA || this == MISTRAL || this == QWEN2 || this == QWEN3;
    }

    /** The architecture for a Hugging Face class name, or null if unsupported. */
    public static Architecture fromHfName(String name) {
        for (Architecture a : values()) if (a.hfName.equals(name)) return a;
        return null;
    }

    /** Every supported class name, comma-separated, for error messages. */
    public static String supportedNames() {
        return Arrays.stream(values()).map(Architecture::hfName).collect(Collectors.joining(", "));
    }
}
