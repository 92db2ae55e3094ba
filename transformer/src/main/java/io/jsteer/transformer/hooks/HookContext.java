/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/**
 * What a hook is being shown: activations {@code x[tokens][width]} (row-major) at absolute
 * positions {@code startPos .. startPos + tokens - 1} of a sequence whose prompt was
 * {@code promptLength} tokens long (the tokens of the first forward call on the state).
 */
public record HookContext(HookName name, int startPos, int tokens, int width, int promptLength) {
    /** Absolute position of row {@code t}. */
    public int position(int t) {
        return startPos + t;
    }
}
