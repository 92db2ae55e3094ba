package io.jsteer.weights;

import java.nio.file.Path;
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

    /** Unmaps the files; tensors obtained before must not be used afterwards. */
    @Override
    void close();
}
