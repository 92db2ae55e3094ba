/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Linear probes: L2 logistic regression on any {@code (rows, labels)} arrays
 * ({@link io.jsteer.steering.probe.LogisticRegression}) and the probe direction as a steering
 * method ({@link io.jsteer.steering.probe.Probe}).
 */
package io.jsteer.steering.probe;
