/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import io.jsteer.steering.eval.SweepResult;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything an HTML report shows.
 *
 * @param title              page title
 * @param metadata           model, method, vector and data facts as label / value, shown in order
 * @param sweep              the sweep to tabulate and plot
 * @param maxPerplexityRatio damage budget for choosing the best setting (e.g. 1.1 = at most 10% worse)
 * @param examplesSetting    which intervention produced the steered examples (one line)
 * @param examples           example generations, possibly none
 */
public record Report(String title, Map<String, String> metadata, SweepResult sweep, double maxPerplexityRatio,
                     String examplesSetting, List<GenerationExample> examples) {
    public Report {
        if (title == null || title.isBlank()) throw new IllegalArgumentException("report needs a title");
        if (sweep == null || sweep.rows().isEmpty()) throw new IllegalArgumentException("report needs a sweep with at least one row");
        if (!(maxPerplexityRatio >= 1)) throw new IllegalArgumentException("perplexity budget must be >= 1, got " + maxPerplexityRatio);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata == null ? Map.of() : metadata));
        examples = examples == null ? List.of() : List.copyOf(examples);
        if (!examples.isEmpty() && (examplesSetting == null || examplesSetting.isBlank())) throw new IllegalArgumentException("report examples need the setting that produced them");
    }
}
