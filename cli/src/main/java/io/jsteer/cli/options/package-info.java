/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** Option groups (picocli mixins) shared by several subcommands: model, prompt, sampling, steering, contrast data, evaluation. */
package io.jsteer.cli.options;
