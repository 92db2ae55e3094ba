/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * The TornadoVM backend: whole forward passes ({@link io.jsteer.gpu.DeviceModel}, kernels in
 * {@link io.jsteer.gpu.ForwardKernels}) run on a GPU or other OpenCL device through TornadoVM task
 * graphs, with weights, residual stream and KV cache resident there; single weight products
 * ({@code out = x W^T}) are offered too. Selected at run time with
 * {@link io.jsteer.gpu.TornadoBackend#tryCreate}, so that a JVM without TornadoVM keeps the CPU
 * backend.
 */
package io.jsteer.gpu;
