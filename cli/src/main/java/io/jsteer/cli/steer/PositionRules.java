/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.Readout;

/** Command-line spellings of position rules (where to steer) and readouts (where to read). */
public final class PositionRules {
    private PositionRules() {}

    /** The accepted position spellings, for help texts. */
    public static final String POSITIONS_HELP = "all, prompt, last-prompt, newest, from:N, range:A:B (positions [A, B))"
            + " or from-prompt:I (from prompt token I on; negative I counts from the prompt's end)";
    /** The accepted readout spellings, for help texts. */
    public static final String READOUT_HELP = "last, all (every token row a sample), mean (each prompt's mean, one sample per prompt),"
            + " or a token index (negative counts from the end)";

    /** Parses one of {@link #POSITIONS_HELP}. */
    public static PositionRule positions(String s) {
        String v = s.strip();
        String[] parts = v.split(":");
        return switch (parts[0]) {
            case "all" -> PositionRule.all();
            case "prompt" -> PositionRule.promptOnly();
            case "last-prompt" -> PositionRule.lastPrompt();
            case "newest" -> PositionRule.newest();
            case "from" -> {
                if (parts.length != 2) throw new IllegalArgumentException("positions '" + s + "': expected from:N");
                yield PositionRule.from(integer(parts[1], "positions '" + s + "'"));
            }
            case "from-prompt" -> {
                if (parts.length != 2) throw new IllegalArgumentException("positions '" + s + "': expected from-prompt:I");
                yield PositionRule.fromPromptToken(integer(parts[1], "positions '" + s + "'"));
            }
            case "range" -> {
                if (parts.length != 3) throw new IllegalArgumentException("positions '" + s + "': expected range:A:B");
                yield PositionRule.range(integer(parts[1], "positions '" + s + "'"), integer(parts[2], "positions '" + s + "'"));
            }
            default -> throw new IllegalArgumentException("unknown positions '" + s + "' (expected " + POSITIONS_HELP + ")");
        };
    }

    /** Parses one of {@link #READOUT_HELP}. */
    public static Readout readout(String s) {
        String v = s.strip();
        if (v.equals("last")) return Readout.last();
        if (v.equals("all")) return Readout.all();
        if (v.equals("mean")) return Readout.mean();
        try {
            return Readout.at(Integer.parseInt(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("unknown readout '" + s + "' (expected " + READOUT_HELP + ")");
        }
    }

    private static int integer(String s, String what) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + s + "' is not an integer");
        }
    }
}
