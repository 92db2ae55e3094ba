/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.hooks.HookName;

/**
 * A forward pass produced NaN or infinite values. {@link #hook()} is the first hook point (in
 * forward order) where they appeared, null when the residual stream stayed finite and only the
 * final norm or the unembedding overflowed; {@link #position()} is the first sequence position
 * affected there.
 */
public final class NonFiniteException extends ArithmeticException {
    private final transient HookName hook;
    private final int position;

    NonFiniteException(String message, HookName hook, int position) {
        super(message);
        this.hook = hook;
        this.position = position;
    }

    /** Where the values first turned non-finite, or null for the final norm / unembedding. */
    public HookName hook() {
        return hook;
    }

    /** The first sequence position holding a non-finite value at {@link #hook()}. */
    public int position() {
        return position;
    }
}
