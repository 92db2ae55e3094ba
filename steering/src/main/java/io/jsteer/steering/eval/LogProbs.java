/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

/** Log-softmax arithmetic on logit rows, in double precision. */
final class LogProbs {
    private LogProbs() {}

    /** {@code log sum_j exp(logits[off + j])} over {@code j < vocab}, stabilised by the row max. */
    static double logSumExp(float[] logits, int off, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) max = Math.max(max, logits[off + j]);
        double sum = 0;
        for (int j = 0; j < vocab; j++) sum += Math.exp(logits[off + j] - max);
        return max + Math.log(sum);
    }

    /** Probability mass of the token ids {@code ids} under softmax of the row at {@code off}. */
    static double mass(float[] logits, int off, int vocab, int[] ids) {
        double lse = logSumExp(logits, off, vocab);
        double m = 0;
        for (int id : ids) m += Math.exp(logits[off + id] - lse);
        return m;
    }

    static void checkToken(String what, int id, int vocab) {
        if (id < 0 || id >= vocab) throw new IllegalArgumentException(what + " token id " + id + " is outside the vocabulary [0, " + vocab + ")");
    }
}
