/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import java.util.ArrayList;
import java.util.List;

/** Texts in columns, word-wrapped, for comparing unsteered and steered continuations in a terminal. */
public final class SideBySide {
    private SideBySide() {}

    private static final String GAP = " | ";

    /** Total width: {@code $COLUMNS} when set and sensible, else 100. */
    public static int terminalWidth() {
        try {
            int w = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100"));
            return Math.max(40, Math.min(w, 240));
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    /** Two columns with their titles. */
    public static String render(String leftTitle, String left, String rightTitle, String right, int width) {
        return render(List.of(leftTitle, rightTitle), List.of(left, right), width);
    }

    /** One column per text, titled, separated by {@code " | "}, {@code width} characters wide in all. */
    public static String render(List<String> titles, List<String> texts, int width) {
        int n = texts.size();
        if (titles.size() != n || n == 0) throw new IllegalArgumentException(titles.size() + " titles for " + n + " texts");
        int col = Math.max(8, (width - GAP.length() * (n - 1)) / n);
        List<List<String>> cols = new ArrayList<>();
        int titleRows = 0;
        for (String t : titles) titleRows = Math.max(titleRows, wrap(t, col).size());
        for (int i = 0; i < n; i++) {
            List<String> c = wrap(titles.get(i), col);
            pad(c, titleRows);
            c.add("-".repeat(col));
            c.addAll(wrap(texts.get(i), col));
            cols.add(c);
        }
        int rows = cols.stream().mapToInt(List::size).max().orElse(0);
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < rows; r++) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < n; i++) {
                List<String> c = cols.get(i);
                String cell = r < c.size() ? c.get(r) : "";
                line.append(i == 0 ? "" : GAP).append(i == n - 1 ? cell : String.format("%-" + col + "s", cell));
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }

    private static void pad(List<String> lines, int rows) {
        while (lines.size() < rows) lines.add("");
    }

    /** Greedy word wrap; words longer than a line are cut; newlines in the text are kept. */
    static List<String> wrap(String text, int width) {
        List<String> out = new ArrayList<>();
        for (String para : text.strip().split("\n", -1)) {
            StringBuilder line = new StringBuilder();
            for (String word : para.split(" ")) {
                if (word.isEmpty()) continue;
                while (word.length() > width) {
                    if (!line.isEmpty()) {
                        out.add(line.toString());
                        line.setLength(0);
                    }
                    out.add(word.substring(0, width));
                    word = word.substring(width);
                }
                if (!line.isEmpty() && line.length() + 1 + word.length() > width) {
                    out.add(line.toString());
                    line.setLength(0);
                }
                if (!line.isEmpty()) line.append(' ');
                line.append(word);
            }
            out.add(line.toString());
        }
        return out;
    }
}
