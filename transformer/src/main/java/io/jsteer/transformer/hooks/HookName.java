/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.hooks;

/** A hook point in one block, written {@code blocks.L.hook_resid_post} as in TransformerLens. */
public record HookName(int layer, HookPoint point) {
    public HookName {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        if (point == null) throw new IllegalArgumentException("hook point is null");
    }

    /** Parses {@code blocks.L.hook_X} (also accepts {@code L.X} for brevity). */
    public static HookName parse(String s) {
        String[] parts = s.split("\\.");
        int first = parts.length == 3 && parts[0].equals("blocks") ? 1 : 0;
        if (parts.length - first != 2) throw new IllegalArgumentException("hook name '" + s + "' is not of the form blocks.L.hook_resid_post");
        int layer;
        try {
            layer = Integer.parseInt(parts[first]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hook name '" + s + "': layer '" + parts[first] + "' is not an integer");
        }
        return new HookName(layer, HookPoint.parse(parts[first + 1]));
    }

    @Override
    public String toString() {
        return "blocks." + layer + "." + point.tlName();
    }
}
