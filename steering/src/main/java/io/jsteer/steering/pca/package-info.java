/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/** PCA steering directions with repeng's variants and sign rule ({@link io.jsteer.steering.pca.Pca}). */
package io.jsteer.steering.pca;
