/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTML page of an analysis command (patch, attention): self-contained like the sweep's {@link
 * HtmlReport}, with its style, a table of what was run, the heat maps inlined, and notes on how
 * to read them.
 */
public final class AnalysisPage {
    private final String title;
    private final Map<String, String> facts = new LinkedHashMap<>();
    private final List<Section> sections = new ArrayList<>();
    private final Map<String, String> notes = new LinkedHashMap<>();

    private record Section(String heading, String text, List<Plot> plots, int columns) {}

    /**
     * An empty page.
     *
     * @param title the page's title and heading
     */
    public AnalysisPage(String title) {
        this.title = title;
    }

    /** Adds a row to the table of what was run. */
    public AnalysisPage fact(String name, String value) {
        facts.put(name, value);
        return this;
    }

    /** Adds a section of plots under {@code heading}, introduced by {@code text} (may be empty). */
    public AnalysisPage section(String heading, String text, List<Plot> plots) {
        return section(heading, text, plots, 1);
    }

    /** As {@link #section(String, String, List)}, the plots side by side in {@code columns} columns. */
    public AnalysisPage section(String heading, String text, List<Plot> plots, int columns) {
        sections.add(new Section(heading, text, List.copyOf(plots), Math.max(1, columns)));
        return this;
    }

    /** Adds a term to the closing notes on how to read the page. */
    public AnalysisPage note(String term, String explanation) {
        notes.put(term, explanation);
        return this;
    }

    /** The page's HTML text. */
    public String render() {
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>").append(HtmlReport.esc(title)).append("</title>\n<style>\n")
                .append(HtmlReport.CSS).append("</style></head>\n<body>\n<h1>").append(HtmlReport.esc(title)).append("</h1>\n");
        h.append("<table class=\"kv\">\n");
        facts.forEach((k, v) -> HtmlReport.kv(h, k, v));
        h.append("</table>\n");
        for (Section s : sections) {
            h.append("<h2>").append(HtmlReport.esc(s.heading())).append("</h2>\n");
            if (!s.text().isEmpty()) h.append("<p>").append(HtmlReport.esc(s.text())).append("</p>\n");
            if (s.columns() > 1) h.append("<div style=\"display:grid;grid-template-columns:repeat(").append(s.columns()).append(",1fr);gap:.5rem\">\n");
            for (Plot p : s.plots()) HtmlReport.figure(h, p);
            if (s.columns() > 1) h.append("</div>\n");
        }
        if (!notes.isEmpty()) {
            h.append("<h2>How to read it</h2>\n<dl>\n");
            notes.forEach((k, v) -> h.append("<dt>").append(HtmlReport.esc(k)).append("</dt><dd>").append(HtmlReport.esc(v)).append("</dd>\n"));
            h.append("</dl>\n");
        }
        return h.append("</body></html>\n").toString();
    }
}
