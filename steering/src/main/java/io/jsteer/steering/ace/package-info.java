/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Editing one concept direction: affine concept editing (Marshall et al. 2024, arXiv:2411.09003) and
 * directional ablation (Arditi et al. 2024, arXiv:2406.11717).
 */
package io.jsteer.steering.ace;
