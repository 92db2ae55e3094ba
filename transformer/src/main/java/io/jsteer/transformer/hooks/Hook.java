/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/**
 * Reads or changes activations at a hook point; changes made in place flow into the rest of the pass.
 *
 * <pre>{@code
 * Hook doubleFirstRow = (ctx, x) -> {
 *     for (int i = 0; i < ctx.width(); i++) x[i] *= 2;   // row 0 is x[0 .. width)
 * };
 * }</pre>
 */
@FunctionalInterface
public interface Hook {
    /** {@code x} is {@code [ctx.tokens()][ctx.width()]}, row-major, and may be modified in place. */
    void apply(HookContext ctx, float[] x);
}
