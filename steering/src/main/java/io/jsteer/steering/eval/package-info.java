/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Evaluation of steering interventions: how far they move the target behaviour
 * ({@link io.jsteer.steering.eval.LogitDifference}, {@link io.jsteer.steering.eval.WordScore}),
 * what they cost in fluency ({@link io.jsteer.steering.eval.TextNll},
 * {@link io.jsteer.steering.eval.PerplexityChange}) and how much they spill onto other behaviours,
 * each as a paired comparison of the same held-out items with and without steering
 * ({@link io.jsteer.steering.eval.Effect}: mean difference, 95% t interval, paired t-test);
 * {@link io.jsteer.steering.eval.Sweep} repeats this over a layer x coefficient (x k) grid and
 * {@link io.jsteer.steering.eval.SweepFiles} stores the result as CSV and JSON.
 *
 * <p>Typical use:
 * <pre>{@code
 * Evaluator ev = new Evaluator(model, new LogitDifference("honesty", answerPrompts),
 *         new TextNll(heldOutTexts), List.of(new WordScore(angerWords, prompts, Decoding.greedy(20), Statistic.PROBABILITY_MASS)));
 * SweepResult r = Sweep.run(ev, SweepGrid.of(List.of(4, 6, 8), List.of(1.0, 2.0, 4.0)),
 *         InterventionFactory.fitting(model, contrast, p -> new Caa(new HookName(p.layer(), HookPoint.RESID_POST), p.coefficient())), progress);
 * SweepFiles.writeJson(r, Path.of("sweep.json"));
 * }</pre>
 */
package io.jsteer.steering.eval;
