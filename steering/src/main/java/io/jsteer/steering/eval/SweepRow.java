/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

/** The evaluation of one sweep setting. */
public record SweepRow(SweepPoint point, Evaluation evaluation) {}
