/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** One class per {@code jsteer} subcommand; each parses its options and calls library code. */
package io.jsteer.cli.commands;
