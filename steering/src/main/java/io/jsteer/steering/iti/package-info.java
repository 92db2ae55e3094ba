/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Inference-Time Intervention (Li et al. 2023, arXiv:2306.03341): per-head probes pick the heads, a mass-mean shift at {@code attn.hook_z}. */
package io.jsteer.steering.iti;
