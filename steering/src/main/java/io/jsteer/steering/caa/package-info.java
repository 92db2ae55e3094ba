/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Contrastive Activation Addition (Rimsky/Panickssery et al. 2023, arXiv:2312.06681): mean difference over paired prompts. */
package io.jsteer.steering.caa;
