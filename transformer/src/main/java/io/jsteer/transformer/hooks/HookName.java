/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/**
 * A hook point in one block, written {@code blocks.L.hook_resid_post} or {@code blocks.L.attn.hook_z}
 * as in TransformerLens; or {@link #LN_FINAL}, after the blocks, written {@code ln_final.hook_normalized}.
 *
 * @param layer the block, {@code >= 0}; -1 for {@link HookPoint#LN_FINAL}, which belongs to no block
 * @param point the point
 */
public record HookName(int layer, HookPoint point) {
    /** The final norm's output, {@code ln_final.hook_normalized}. */
    public static final HookName LN_FINAL = new HookName(-1, HookPoint.LN_FINAL);

    /**
     * Checks the layer against the point.
     *
     * @param layer the block, or -1 for {@link HookPoint#LN_FINAL}
     * @param point the point
     */
    public HookName {
        if (point == null) throw new IllegalArgumentException("hook point is null");
        if (point == HookPoint.LN_FINAL) {
            if (layer != -1) throw new IllegalArgumentException("ln_final.hook_normalized is after the blocks and has no layer (use HookName.LN_FINAL)");
        } else if (layer < 0) {
            throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }
    }

    /**
     * Parses {@code blocks.L.hook_X} or {@code blocks.L.attn.hook_X} (also {@code L.X} and
     * {@code L.attn.X} for brevity), or {@code ln_final.hook_normalized}.
     *
     * @param s the name
     * @return the hook name
     */
    public static HookName parse(String s) {
        if (s.equals(HookPoint.LN_FINAL.tlName()) || s.equals("ln_final.normalized")) return LN_FINAL;
        String rest = s.startsWith("blocks.") ? s.substring("blocks.".length()) : s;
        int dot = rest.indexOf('.');
        if (dot <= 0 || dot == rest.length() - 1) {
            throw new IllegalArgumentException("hook name '" + s + "' is not of the form blocks.L.hook_resid_post, blocks.L.attn.hook_z or ln_final.hook_normalized");
        }
        int layer;
        try {
            layer = Integer.parseInt(rest.substring(0, dot));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hook name '" + s + "': layer '" + rest.substring(0, dot) + "' is not an integer");
        }
        HookPoint point = HookPoint.parse(rest.substring(dot + 1));
        if (point == HookPoint.LN_FINAL) throw new IllegalArgumentException("hook name '" + s + "': ln_final.hook_normalized belongs to no block; write it alone");
        return new HookName(layer, point);
    }

    @Override
    public String toString() {
        return point == HookPoint.LN_FINAL ? point.tlName() : "blocks." + layer + "." + point.tlName();
    }
}
