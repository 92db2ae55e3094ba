/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

/**
 * Which token positions of a prompt are read when fitting a method: the last token (where CAA
 * reads the answer), a fixed index, every position (ActAdd, SARA), or the mean over a prompt's
 * positions.
 *
 * <p>{@code all} and {@code mean} differ in how prompts are weighed. With {@code all} every token
 * row is one sample: a mean over a contrast side is the mean over all its token rows pooled, so a
 * 30-token prompt weighs thirty times a 1-token one. With {@code mean} each prompt is first reduced
 * to the mean of its rows, one sample per prompt, so the side's mean is the mean of the per-prompt
 * means and every prompt weighs the same (IBM activation-steering's
 * {@code accumulate_last_x_tokens="all"}; repeng and CAA read one token per prompt).
 */
public sealed interface Readout {
    /** The positions (ascending, 0-based) to read from a prompt of {@code length} tokens; throws when there are none. */
    int[] positions(int length);

    /** Words for reports and file metadata, e.g. {@code token -1}. */
    String describe();

    /** The last token. */
    static Readout last() {
        return new At(-1);
    }

    /** Token {@code index}; a negative index counts from the end ({@code -1} is the last token). */
    static Readout at(int index) {
        return new At(index);
    }

    /** Every position, each row a sample of its own. */
    static Readout all() {
        return new All();
    }

    /** The mean of every position's row: one sample per prompt. */
    static Readout mean() {
        return new Mean();
    }

    /**
     * The samples read from one prompt, given the rows at {@link #positions}: those rows
     * ({@code [rows][width]} row-major), except for {@link Mean}, which returns their mean as one row.
     */
    default float[] samples(float[] rows, int width) {
        return rows;
    }

    /** One position, counted from the start ({@code >= 0}) or from the end ({@code < 0}). */
    record At(int index) implements Readout {
        @Override
        public int[] positions(int length) {
            int p = index < 0 ? length + index : index;
            if (p < 0 || p >= length) {
                throw new IllegalArgumentException("readout token " + index + " does not exist in a prompt of " + length + " tokens");
            }
            return new int[] {p};
        }

        @Override
        public String describe() {
            return index == -1 ? "last token" : "token " + index;
        }
    }

    /** Every position of the prompt. */
    record All() implements Readout {
        @Override
        public int[] positions(int length) {
            if (length <= 0) throw new IllegalArgumentException("cannot read an empty prompt");
            int[] p = new int[length];
            for (int i = 0; i < length; i++) p[i] = i;
            return p;
        }

        @Override
        public String describe() {
            return "all tokens";
        }
    }

    /** The mean over all positions of the prompt, one row per prompt (accumulated in double, rounded to float once). */
    record Mean() implements Readout {
        @Override
        public int[] positions(int length) {
            return new All().positions(length);
        }

        @Override
        public float[] samples(float[] rows, int width) {
            int n = rows.length / width;
            float[] mean = new float[width];
            for (int i = 0; i < width; i++) {
                double s = 0;
                for (int t = 0; t < n; t++) s += rows[t * width + i];
                mean[i] = (float) (s / n);
            }
            return mean;
        }

        @Override
        public String describe() {
            return "mean of all tokens";
        }
    }
}
