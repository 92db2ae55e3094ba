/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * {@code jsteer serve}: an OpenAI-compatible HTTP server (completions, chat completions, models,
 * server-sent-event streaming) on Helidon SE's WebServer, with steering chosen per request, a
 * vector registry that can be changed while the server runs, and continuous batching of all
 * requests on one {@link io.jsteer.transformer.batch.Engine}. See the module's README.
 */
package io.jsteer.server;
