/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Mean-difference vectors restricted to a few coordinates: by effect-to-noise ratio, or after whitening. */
package io.jsteer.steering.sparse;
