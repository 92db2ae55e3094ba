/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

/**
 * One chart of a sweep, encoded once: written next to the report as {@code file} and inlined
 * into it.
 *
 * @param file    file name in the sweep's output folder, e.g. {@code trade-off.png}
 * @param png     the encoded image
 * @param caption what the chart shows and how to read it
 */
public record Plot(String file, String title, int width, int height, byte[] png, String caption) {}
