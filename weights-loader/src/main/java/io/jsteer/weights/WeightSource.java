/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/** Named tensors of a checkpoint, from one safetensors file or several shards. */
public interface WeightSource extends AutoCloseable {
    /** Whether a tensor of this name exists. */
    boolean has(String name);

    /** The tensor of this name; throws {@link WeightsException} naming the checkpoint when absent. */
    Tensor tensor(String name);

    /** All tensor names. */
    Set<String> names();

    /** The file or index this source was opened from, for error messages. */
    Path path();

    /**
     * The tensor of this name, checked to have exactly {@code shape} (what the config implies).
     * Throws {@link WeightsException} "missing tensor 'X'" or "tensor 'X' has shape [a, b], config
     * implies [c, d]", naming {@link #path()}.
     */
    default Tensor expectShape(String name, long... shape) {
        if (!has(name)) throw new WeightsException(path(), "missing tensor '" + name + "' (required by the config's architecture)");
        Tensor t = tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new WeightsException(path(), "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", config implies " + Arrays.toString(shape));
        }
        return t;
    }

    /**
     * Throws {@link WeightsException} when a mapped file changed on disk (size or modification
     * time) since it was opened. Reading a mapped file that shrank faults the JVM (SIGBUS), which
     * vectorised reads do not survive, so callers check before each pass; a file rewritten while
     * a pass reads it remains a hazard. Replacing a file by renaming a new one over it is safe:
     * the old one stays mapped.
     */
    default void checkUnchanged() {}

    /** Unmaps the files; tensors obtained before must not be used afterwards. */
    @Override
    void close();
}
