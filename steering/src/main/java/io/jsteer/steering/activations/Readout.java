/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.activations;

/**
 * Which token positions of a prompt are read when fitting a method: the last token (where CAA
 * reads the answer), a fixed index, or every position (ActAdd, SARA).
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

    /** Every position. */
    static Readout all() {
        return new All();
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
}
