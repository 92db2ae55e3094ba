/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Reading activations for fitting: run-with-cache over prompts ({@link io.jsteer.steering.activations.ActivationCache}),
 * which positions to read ({@link io.jsteer.steering.activations.Readout}) and streaming statistics.
 */
package io.jsteer.steering.activations;
