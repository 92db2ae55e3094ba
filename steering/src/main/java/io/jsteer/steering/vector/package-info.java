/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Steering vectors: the fitted direction ({@link io.jsteer.steering.vector.SteeringVector}), its
 * addition to activations ({@link io.jsteer.steering.vector.AddVector}), safetensors files and
 * llama.cpp control-vector GGUF export.
 */
package io.jsteer.steering.vector;
