/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.io;

import io.jsteer.cli.UserError;

/** Token ids as written on the command line: {@code 1,2,3} (commas and/or spaces). */
public final class TokenIds {
    private TokenIds() {}

    public static int[] parse(String text) {
        String[] parts = text.strip().split("[,\\s]+");
        if (parts.length == 0 || parts[0].isEmpty()) throw new UserError("--ids is empty; give token ids like 1,2,3");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new UserError("--ids: '" + parts[i] + "' is not a token id (expected non-negative integers like 1,2,3)");
            }
            if (ids[i] < 0) throw new UserError("--ids: token id " + ids[i] + " is negative");
        }
        return ids;
    }
}
