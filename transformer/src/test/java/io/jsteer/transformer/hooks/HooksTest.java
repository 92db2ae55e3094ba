/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HooksTest {
    @Test
    void namesRoundTripInTransformerLensSpelling() {
        HookName n = HookName.parse("blocks.3.hook_resid_post");
        assertEquals(new HookName(3, HookPoint.RESID_POST), n);
        assertEquals("blocks.3.hook_resid_post", n.toString());
        assertEquals(new HookName(0, HookPoint.MLP_OUT), HookName.parse("0.mlp_out"));
    }

    @Test
    void badNamesAreRejectedPrecisely() {
        assertEquals("unknown hook point 'hook_resid' (expected one of resid_pre, attn_out, resid_mid, mlp_out, resid_post, "
                + "ln1.hook_normalized, attn.hook_q, attn.hook_k, attn.hook_v, attn.hook_rot_q, attn.hook_rot_k, attn.hook_attn_scores, "
                + "attn.hook_pattern, attn.hook_z, ln2.hook_normalized, mlp.hook_pre, mlp.hook_pre_linear, mlp.hook_post, ln_final.hook_normalized)",
                assertThrows(IllegalArgumentException.class, () -> HookName.parse("blocks.1.hook_resid")).getMessage());
        assertEquals("hook name 'blocks.x.hook_resid_pre': layer 'x' is not an integer",
                assertThrows(IllegalArgumentException.class, () -> HookName.parse("blocks.x.hook_resid_pre")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HookName(-1, HookPoint.RESID_PRE));
    }

    @Test
    void layerOutOfRangeAndMissingResidMidAreRefused() {
        Hooks hooks = new Hooks(4, false);
        assertEquals("layer 4 is out of range: the model has layers 0..3",
                assertThrows(IllegalArgumentException.class, () -> hooks.add(new HookName(4, HookPoint.RESID_POST), (c, x) -> {})).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> hooks.add(new HookName(1, HookPoint.RESID_MID), (c, x) -> {}))
                .getMessage().startsWith("blocks.1.hook_resid_mid does not exist"));
    }

    @Test
    void hooksComposeInOrderAndDetach() {
        Hooks hooks = new Hooks(2, true);
        HookName at = new HookName(1, HookPoint.RESID_MID);
        List<String> calls = new ArrayList<>();
        Hooks.Handle a = hooks.add(at, (c, x) -> { x[0] += 1; calls.add("a"); });
        hooks.add(at, (c, x) -> { x[0] *= 10; calls.add("b"); });
        float[] x = {1, 2};
        hooks.run(new HookContext(at, 0, 1, 2, 1), x);
        assertEquals(20f, x[0]);
        assertEquals(List.of("a", "b"), calls);
        a.close();
        assertTrue(hooks.active(1, HookPoint.RESID_MID));
        hooks.clear();
        assertFalse(hooks.active(1, HookPoint.RESID_MID));
    }

    @Test
    void positionsSelectAbsolutePositionsAcrossPrefillAndDecode() {
        HookName at = new HookName(0, HookPoint.RESID_POST);
        HookContext prefill = new HookContext(at, 0, 5, 8, 5);
        HookContext decode = new HookContext(at, 7, 1, 8, 5);
        assertTrue(Positions.promptOnly().includes(prefill, 4));
        assertFalse(Positions.promptOnly().includes(decode, 0));
        assertTrue(Positions.lastPrompt().includes(prefill, 4));
        assertFalse(Positions.lastPrompt().includes(prefill, 3));
        assertTrue(Positions.newest().includes(decode, 0));
        assertTrue(Positions.from(7).includes(decode, 0));
        assertFalse(Positions.from(7).includes(prefill, 4));
        assertTrue(Positions.range(2, 4).includes(prefill, 3));
        assertFalse(Positions.range(2, 4).includes(prefill, 4));
    }
}
