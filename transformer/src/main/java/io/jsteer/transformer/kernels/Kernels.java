/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.VectorShape;

/** One {@link VectorKernel} per vector width, defined on first use. */
final class Kernels {
    /** System property forcing one vector width for every product: 128, 256 or 512. */
    static final String BITS_PROPERTY = "jsteer.vector.bits";

    private static final Kernel[] BY_WIDTH = new Kernel[3];

    private Kernels() {}

    /** The width set by {@value #BITS_PROPERTY}, or 0 when it is not set. */
    static int forcedBits() {
        String p = System.getProperty(BITS_PROPERTY);
        if (p == null) return 0;
        try {
            return Integer.parseInt(p.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + BITS_PROPERTY + "=" + p + " is not a number: use 128, 256 or 512", e);
        }
    }

    /** Widest vector the JIT supports on this CPU. */
    static int maxBits() {
        return VectorShape.preferredShape().vectorBitSize();
    }

    /** The kernel of {@code bits} (128, 256 or 512, at most {@link #maxBits()}). */
    static synchronized Kernel of(int bits) {
        int slot = switch (bits) {
            case 128 -> 0;
            case 256 -> 1;
            case 512 -> 2;
            default -> throw new IllegalArgumentException(BITS_PROPERTY + " must be 128, 256 or 512, got " + bits);
        };
        if (bits > maxBits()) {
            throw new IllegalArgumentException(BITS_PROPERTY + "=" + bits + " exceeds this CPU's widest vector, " + maxBits() + " bits");
        }
        if (BY_WIDTH[slot] == null) BY_WIDTH[slot] = define(bits);
        return BY_WIDTH[slot];
    }

    private static Kernel define(int bits) {
        try (InputStream in = VectorKernel.class.getResourceAsStream(VectorKernel.class.getSimpleName() + ".class")) {
            if (in == null) throw new IllegalStateException("class file of " + VectorKernel.class.getName() + " is not on the class path");
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClassWithClassData(in.readAllBytes(), bits, true);
            return (Kernel) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the class file of " + VectorKernel.class.getName(), e);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot define the " + bits + "-bit vector kernel", e);
        }
    }
}
