/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Input files (prompts, contrast pairs, answers; text or token ids), atomic output files, and terminal formatting. */
package io.jsteer.cli.io;
