/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** {@code jsteer demo}: the offline guided tour on the built-in default model. */
package io.jsteer.cli.demo;
