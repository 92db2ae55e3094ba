/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Progress of long work: a live bar on a terminal, sparse plain lines in logs. */
package io.jsteer.cli.progress;
