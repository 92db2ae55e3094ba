/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.lora;

import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.ModelWeights;
import io.jsteer.weights.Tensor;
import java.util.function.UnaryOperator;

/** A model sharing every weight with another except one block's, for checking adapters. */
final class PatchedModels {
    private PatchedModels() {}

    static Model withLayer(Model model, int layer, UnaryOperator<LayerWeights> change) {
        ModelWeights w = model.weights();
        LayerWeights[] layers = w.layers().clone();
        layers[layer] = change.apply(layers[layer]);
        return new Model(model.config(), new ModelWeights(w.embed(), w.finalNorm(), w.lmHead(), layers), model.backend());
    }

    static LayerWeights withDown(LayerWeights w, Tensor down, float[] downBias) {
        return w.withDown(down, downBias);
    }

    static LayerWeights withOBias(LayerWeights w, float[] oBias) {
        return w.withOBias(oBias);
    }
}
