/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Interpretability analyses over a {@link io.jsteer.transformer.Model}, one class each, built on
 * its hook points and named as in TransformerLens: the {@link
 * io.jsteer.steering.analysis.LogitLens logit lens} (every block's output read out through the
 * model's own final norm and unembedding), {@link
 * io.jsteer.steering.analysis.DirectLogitAttribution direct logit attribution} (what each block's
 * attention and MLP write towards one answer rather than another) and {@link
 * io.jsteer.steering.analysis.ActivationPatching activation patching} (clean activations patched
 * into a corrupted run, scored by a logit difference, the runs batched).
 *
 * <pre>{@code
 * int[] clean = tokenizer.encode("When Mary and John went to the store, John gave a drink to");
 * int[] corrupt = tokenizer.encode("When Mary and John went to the store, Mary gave a drink to");
 * ActivationPatching patching = new ActivationPatching(model, clean, corrupt, mary, john);
 * double[][] byLayerAndPosition = patching.residual(HookPoint.RESID_PRE);
 * }</pre>
 */
package io.jsteer.steering.analysis;
