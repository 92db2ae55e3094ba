/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * The built-in default model: a small GPT-NeoX checkpoint written down from the statistics of a
 * built-in corpus, with a planted steering direction; see {@link io.jsteer.cli.defaultmodel.DefaultModel}.
 */
package io.jsteer.cli.defaultmodel;
