/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering;

import java.util.List;

/**
 * Token-id prompts that show a behaviour ({@code positive}) and its opposite ({@code negative}).
 * ActAdd uses one prompt on each side, CAA and the sparse methods mean over many, SARA reads them
 * as attract / repel sets. Pairing (same count, i-th positive pairs with i-th negative) is
 * checked by the methods that need it.
 */
public record ContrastSet(List<int[]> positive, List<int[]> negative) {
    public ContrastSet {
        if (positive == null || positive.isEmpty()) throw new IllegalArgumentException("contrast set has no positive prompts");
        if (negative == null || negative.isEmpty()) throw new IllegalArgumentException("contrast set has no negative prompts");
        for (int[] p : positive) if (p == null || p.length == 0) throw new IllegalArgumentException("contrast set has an empty positive prompt");
        for (int[] p : negative) if (p == null || p.length == 0) throw new IllegalArgumentException("contrast set has an empty negative prompt");
        positive = List.copyOf(positive);
        negative = List.copyOf(negative);
    }

    /** Fails unless positives and negatives pair one to one. */
    public void requirePaired() {
        if (positive.size() != negative.size()) {
            throw new IllegalArgumentException("contrast pairs are unequal: " + positive.size() + " positive vs " + negative.size() + " negative prompts");
        }
    }
}
