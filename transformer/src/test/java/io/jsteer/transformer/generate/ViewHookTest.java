/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hook;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.hooks.Hooks;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hook given an ActivationView against a raw hook, on GeneratorTest's random GPT-NeoX. */
class ViewHookTest {
    static final HookName POINT = new HookName(1, HookPoint.RESID_PRE);

    @Test
    void aViewHookSeesAndChangesWhatARawHookDoes(@TempDir Path dir) throws IOException {
        GeneratorTest.writeModel(dir);
        Model model = GeneratorTest.model;
        int[] prompt = {3, 17, 5, 29};
        float[] v = new float[model.config().hiddenSize()];
        for (int i = 0; i < v.length; i++) v[i] = (i % 3) - 1;

        // reading: the same rows and positions
        List<String> raw = new ArrayList<>(), viewed = new ArrayList<>();
        State a = model.newState();
        a.hooks().add(POINT, (Hook) (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) {
                double s = 0;
                for (int i = 0; i < ctx.width(); i++) s += (double) x[t * ctx.width() + i] * v[i];
                raw.add(ctx.position(t) + ":" + s);
            }
        });
        float[] plain = model.forward(a, prompt, false);
        State b = model.newState();
        b.hooks().add(POINT, view -> {
            for (int r = 0; r < view.rows(); r++) viewed.add(view.position(r) + ":" + view.dot(r, v));
        });
        assertArrayEquals(plain, model.forward(b, prompt, false));
        assertEquals(raw, viewed);
        assertEquals(prompt.length, viewed.size());

        // writing: the same logits as the raw hook's in-place change
        State c = model.newState();
        c.hooks().add(POINT, (Hook) (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) for (int i = 0; i < ctx.width(); i++) x[t * ctx.width() + i] += (float) (3.0 * v[i]);
        });
        float[] rawSteered = model.forward(c, prompt, false);
        State d = model.newState();
        Hooks.Handle h = d.hooks().add(POINT, view -> {
            for (int r = 0; r < view.rows(); r++) view.add(r, v, 3.0);
        });
        assertArrayEquals(rawSteered, model.forward(d, prompt, false));
        assertFalse(Arrays.equals(plain, rawSteered), "the change moves the logits");
        h.close();
        assertFalse(d.hooks().active(POINT.layer(), POINT.point()), "the handle detaches the view hook");
    }
}
