/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.Intervention;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.nio.file.Path;

/**
 * The pythia-tiny-parallel fixture and its Hugging Face steering references
 * ({@code steering.json}: vectors added to the output of block 1 at every position).
 */
final class EvalFixture {
    private EvalFixture() {}

    static final String MODEL = "pythia-tiny-parallel";
    /** Block whose output the reference vectors were added to. */
    static final int LAYER = 1;

    static Path dir() {
        return Fixtures.dir(MODEL);
    }

    static Model model() {
        return Model.load(dir());
    }

    static JsonNode json(String file) {
        return Fixtures.json(MODEL, file);
    }

    static JsonNode steering() {
        return json("steering.json");
    }

    /** Row {@code r} of a 2-D JSON array. */
    static float[] row(JsonNode rows, int r) {
        return Fixtures.floats(rows.get(r));
    }

    /** The reference CAA vector scaled by 4, as in {@code steered.caa_x4}. */
    static float[] caaX4() {
        return Fixtures.floats(steering().get("steered").get("caa_x4").get("vector"));
    }

    /** Adds {@code coefficient * vector} to the output of block {@code layer} at every position. */
    record AddVector(int layer, float[] vector, double coefficient) implements Intervention {
        @Override
        public Hooks.Handle attach(State state) {
            return state.hooks().add(new HookName(layer, HookPoint.RESID_POST), (ctx, x) -> add(x, ctx.tokens(), vector, coefficient));
        }

        @Override
        public String describe() {
            return "add vector at blocks." + layer + ".hook_resid_post x" + coefficient;
        }
    }

    static void add(float[] x, int tokens, float[] v, double coefficient) {
        int d = v.length;
        for (int t = 0; t < tokens; t++) for (int i = 0; i < d; i++) x[t * d + i] += (float) (coefficient * v[i]);
    }

    /** {@code log softmax(row)[token]} by two plain loops in double precision. */
    static double logProb(float[] row, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) max = Math.max(max, v);
        double z = 0;
        for (float v : row) z += Math.exp(v - max);
        return row[token] - max - Math.log(z);
    }
}
