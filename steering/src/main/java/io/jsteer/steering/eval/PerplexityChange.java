/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

/**
 * Off-target damage as a perplexity ratio: {@code exp(mean_i(nll_steered_i - nll_unsteered_i))},
 * the geometric mean over held-out texts of each text's steered / unsteered perplexity (per-token
 * NLL in nats). Its 95% interval is the exponentiated t interval of the mean NLL difference, and
 * the p-value is the paired t-test of the per-text NLLs. 1 means no damage.
 *
 * @param nll   the per-text NLL comparison this is derived from
 */
public record PerplexityChange(Effect nll) {
    /** Steered over unsteered perplexity (geometric mean over texts). */
    public double ratio() {
        return Math.exp(nll.difference().mean());
    }

    /** Lower end of the 95% interval of {@link #ratio()}. */
    public double low() {
        return Math.exp(nll.difference().low());
    }

    /** Upper end of the 95% interval of {@link #ratio()}. */
    public double high() {
        return Math.exp(nll.difference().high());
    }

    /** Paired t-test p-value of steered vs unsteered per-text NLL. */
    public double pValue() {
        return nll.pValue();
    }

    /** Unsteered perplexity, {@code exp} of the mean per-text NLL. */
    public double unsteeredPerplexity() {
        return Math.exp(nll.unsteered().mean());
    }

    /** Steered perplexity, {@code exp} of the mean per-text NLL. */
    public double steeredPerplexity() {
        return Math.exp(nll.steered().mean());
    }
}
