/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * Token co-occurrence counts of a corpus: for a gap {@code g}, how often token {@code j} follows
 * token {@code i} exactly {@code g} positions later (g = 1: bigrams). The corpus vocabulary (the
 * distinct token ids seen) indexes the rows and columns.
 */
final class NgramStatistics {
    private final int[] vocab;
    private final List<int[]> paragraphs;
    private final double[] unigram;

    NgramStatistics(List<int[]> paragraphs) {
        TreeSet<Integer> ids = new TreeSet<>();
        for (int[] p : paragraphs) for (int t : p) ids.add(t);
        if (ids.isEmpty()) throw new IllegalArgumentException("corpus is empty");
        this.vocab = ids.stream().mapToInt(Integer::intValue).toArray();
        this.paragraphs = List.copyOf(paragraphs);
        this.unigram = new double[vocab.length];
        long total = 0;
        for (int[] p : paragraphs) {
            for (int t : p) unigram[index(t)]++;
            total += p.length;
        }
        for (int i = 0; i < unigram.length; i++) unigram[i] /= total;
    }

    /** The distinct token ids of the corpus, ascending; position = row/column index. */
    int[] vocab() {
        return vocab.clone();
    }

    int size() {
        return vocab.length;
    }

    /** The row/column index of a corpus token id, or a negative number when it is not in the corpus. */
    int index(int tokenId) {
        return Arrays.binarySearch(vocab, tokenId);
    }

    /** How often each corpus token occurs as the context of a gap-{@code gap} pair. */
    double[] contextCounts(int gap) {
        double[] c = new double[vocab.length];
        for (int[] p : paragraphs) for (int t = 0; t + gap < p.length; t++) c[index(p[t])]++;
        return c;
    }

    /**
     * {@code log P(j | i at distance gap)}, smoothed towards the unigram distribution
     * (Dirichlet prior of weight {@code prior}: {@code (c(i,j) + prior * P(j)) / (c(i) + prior)}),
     * then double-centred: row means (a per-context constant, which softmax ignores) and column means
     * (a per-token bias, returned in {@code columnMeans}) are removed.
     */
    double[][] centredLogConditional(int gap, double prior, double[] columnMeans) {
        int n = vocab.length;
        double[][] counts = new double[n][n];
        double[] rowTotal = new double[n];
        for (int[] p : paragraphs) {
            for (int t = 0; t + gap < p.length; t++) {
                int i = index(p[t]), j = index(p[t + gap]);
                counts[i][j]++;
                rowTotal[i]++;
            }
        }
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            double denom = rowTotal[i] + prior;
            double rowMean = 0;
            for (int j = 0; j < n; j++) {
                a[i][j] = Math.log((counts[i][j] + prior * unigram[j]) / denom);
                rowMean += a[i][j];
            }
            rowMean /= n;
            for (int j = 0; j < n; j++) a[i][j] -= rowMean;
        }
        Arrays.fill(columnMeans, 0);
        for (double[] row : a) for (int j = 0; j < n; j++) columnMeans[j] += row[j] / n;
        for (double[] row : a) for (int j = 0; j < n; j++) row[j] -= columnMeans[j];
        return a;
    }
}
