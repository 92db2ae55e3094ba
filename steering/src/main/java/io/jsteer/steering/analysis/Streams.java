/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.analysis;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Activations of one prompt at chosen hook points, read with hooks in one pass over the blocks. */
final class Streams {
    private Streams() {}

    /**
     * Runs {@code tokens} through a fresh sequence up to the deepest block {@code points} name and
     * returns a copy of the activation at each point, in the order given, laid out as the point's
     * {@link io.jsteer.transformer.hooks.HookPoint.Layout} says.
     */
    static float[][] record(Model model, int[] tokens, List<HookName> points) {
        float[][] out = new float[points.size()][];
        State state = model.newState();
        List<Hooks.Handle> handles = new ArrayList<>();
        int deepest = 0;
        for (int i = 0; i < points.size(); i++) {
            int at = i;
            deepest = Math.max(deepest, points.get(i).layer() + 1);
            handles.add(state.hooks().add(points.get(i), (ctx, x) -> out[at] = Arrays.copyOf(x, ctx.size())));
        }
        try {
            model.forwardBlocks(List.of(new Model.Step(state, tokens, false)), deepest);
        } finally {
            handles.forEach(Hooks.Handle::close);
        }
        return out;
    }
}
