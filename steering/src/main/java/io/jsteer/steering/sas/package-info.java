/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Sparse Activation Steering (Bayat et al. 2025, arXiv:2503.00177) in the feature space of a sparse
 * autoencoder, with SAELens and Gemma Scope loaders and a NumPy array reader.
 */
package io.jsteer.steering.sas;
