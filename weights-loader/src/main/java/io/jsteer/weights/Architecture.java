/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

/** Model families the transformer implements, keyed by the {@code architectures} entry of config.json. */
public enum Architecture {
    GPT_NEOX("GPTNeoXForCausalLM"),
    GEMMA("GemmaForCausalLM"),
    GEMMA2("Gemma2ForCausalLM"),
    GEMMA3("Gemma3ForCausalLM");

    private final String hfName;

    Architecture(String hfName) {
        this.hfName = hfName;
    }

    /** The Hugging Face class name in config.json. */
    public String hfName() {
        return hfName;
    }

    /** The architecture for a Hugging Face class name, or null if unsupported. */
    public static Architecture fromHfName(String name) {
        for (Architecture a : values()) if (a.hfName.equals(name)) return a;
        return null;
    }
}
