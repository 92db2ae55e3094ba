/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/** Reads or changes activations at a hook point; changes made in place flow into the rest of the pass. */
@FunctionalInterface
public interface Hook {
    /** {@code x} is {@code [ctx.tokens()][ctx.width()]}, row-major, and may be modified in place. */
    void apply(HookContext ctx, float[] x);
}
