/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** SARA (Tlaie 2024, arXiv:2405.17345): per-neuron rescaling by SVD similarity to attract and repel activations. */
package io.jsteer.steering.sara;
