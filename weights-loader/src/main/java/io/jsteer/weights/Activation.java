/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

/** MLP non-linearities used by the supported families. */
public enum Activation {
    /** Exact GELU, x * Phi(x) with the error function (GPT-NeoX "gelu"). */
    GELU_ERF,
    /** Tanh approximation of GELU (Gemma "gelu_pytorch_tanh"). */
    GELU_TANH,
    /** SiLU (swish), x * sigmoid(x): the gate of Llama's, Mistral's and Qwen's SwiGLU ("silu"). */
    SILU;

    /** Maps a Hugging Face activation name; null when unknown. */
    public static Activation fromHfName(String name) {
        return switch (name) {
            case "gelu" -> GELU_ERF;
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast" -> GELU_TANH;
            case "silu", "swish" -> SILU;
            default -> null;
        };
    }
}
