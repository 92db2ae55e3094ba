/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.lora;

import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.Model;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsWriter;
import java.nio.file.Path;

/**
 * A steering vector folded into a GPT-NeoX output bias: the checkpoint tensor {@code tensor}
 * replaced by {@code patched = original + coefficient * v}. Loading the checkpoint with this
 * tensor swapped in steers exactly like adding the vector at all positions.
 *
 * @param layer  the block whose bias changes
 * @param tensor the Hugging Face name, e.g. {@code gpt_neox.layers.1.mlp.dense_4h_to_h.bias}
 */
public record BiasPatch(SteeringVector vector, double coefficient, int layer, String tensor, float[] patched) {
    /** Writes the patched tensor (F32) as a one-tensor safetensors file, atomically. */
    public void write(Path file) {
        new SafeTensorsWriter()
                .metadata("format", "jsteer.bias_patch")
                .metadata("replaces", tensor)
                .metadata("steering", vector.method() + " " + vector.hook() + " x" + coefficient)
                .metadata("model", vector.model())
                .add(tensor, patched.clone(), DType.F32, patched.length)
                .write(file);
    }

    /** {@code model} with the patched bias in place of the original. */
    public Model apply(Model model) {
        float[] b = patched.clone();
        return PatchedModels.withLayer(model, layer, w -> tensor.endsWith(".attention.dense.bias")
                ? PatchedModels.withOBias(w, b)
                : PatchedModels.withDown(w, w.down(), b));
    }

    @Override
    public float[] patched() {
        return patched.clone();
    }
}
