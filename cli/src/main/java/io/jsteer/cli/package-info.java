/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * The {@code jsteer} command line ({@link io.jsteer.cli.Main}): picocli subcommands in
 * {@code commands}, their shared options in {@code options}, and the glue between text inputs and
 * the library in {@code steer} and {@code io}. Failures become one line on stderr and a nonzero
 * exit status ({@link io.jsteer.cli.UserError} for problems with the user's input).
 */
package io.jsteer.cli;
