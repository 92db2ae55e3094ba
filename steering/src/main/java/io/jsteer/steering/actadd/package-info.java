/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Activation Addition (Turner et al. 2023, arXiv:2308.10248): one prompt pair's activation difference. */
package io.jsteer.steering.actadd;
