/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * What the subcommands do with a loaded model: method specs ({@code caa:layer=2,coeff=4}) and their
 * registry, interventions from vector files or fitted methods, continuations, forward passes that
 * keep block outputs, evaluators from text inputs, and sweeps with their reports.
 */
package io.jsteer.cli.steer;
