/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

/** One prompt with its unsteered and steered continuations, as text, for the report. */
public record GenerationExample(String prompt, String unsteered, String steered) {
    public GenerationExample {
        if (prompt == null || unsteered == null || steered == null) throw new IllegalArgumentException("generation example has a null prompt or continuation");
    }
}
