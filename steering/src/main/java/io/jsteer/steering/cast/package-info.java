/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Conditional activation steering, CAST (Lee et al. 2024): {@link io.jsteer.steering.cast.Cast}. */
package io.jsteer.steering.cast;
