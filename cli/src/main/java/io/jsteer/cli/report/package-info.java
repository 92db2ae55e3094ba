/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Presentation of sweep results: {@link io.jsteer.cli.report.SweepCharts} draws them with XChart
 * (headless, PNG) and {@link io.jsteer.cli.report.HtmlReport} writes one self-contained HTML file
 * with the plots inlined, the sweep table, the best setting, example generations and a one-line
 * explanation of each statistic.
 */
package io.jsteer.cli.report;
