/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A concept direction computed here, sharing no code with jsteer's, from Hugging Face's recorded
 * activation rows of the two sides: the means {@code muPlus} and {@code muMinus}, the gap
 * {@code |muPlus - muMinus|} and the unit direction {@code (muPlus - muMinus) / gap}.
 */
public record HfConcept(double[] muPlus, double[] muMinus, double[] unit, double gap) {
    /** From the positive and negative rows ({@code [[...], ...]} JSON arrays of one width). */
    public static HfConcept of(JsonNode positiveRows, JsonNode negativeRows) {
        double[] plus = mean(positiveRows), minus = mean(negativeRows);
        double[] r = new double[plus.length];
        double gap = 0;
        for (int i = 0; i < r.length; i++) {
            r[i] = plus[i] - minus[i];
            gap += r[i] * r[i];
        }
        gap = Math.sqrt(gap);
        for (int i = 0; i < r.length; i++) r[i] /= gap;
        return new HfConcept(plus, minus, r, gap);
    }

    /** The mean of JSON rows, in double precision. */
    public static double[] mean(JsonNode rows) {
        double[] m = new double[rows.get(0).size()];
        for (JsonNode row : rows) for (int i = 0; i < m.length; i++) m[i] += row.get(i).asDouble() / rows.size();
        return m;
    }
}
