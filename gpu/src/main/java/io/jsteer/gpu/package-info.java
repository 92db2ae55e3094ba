/**
 * The TornadoVM backend: weight products ({@code out = x W^T}) run on a GPU or other OpenCL device
 * through TornadoVM task graphs, selected at run time with
 * {@link io.jsteer.gpu.TornadoBackend#tryCreate} so that a JVM without TornadoVM keeps the CPU
 * backend.
 */
package io.jsteer.gpu;
