/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import io.jsteer.steering.Intervention;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.transformer.Model;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a server serves: the model, its tokenizer, the id clients name it by ({@code GET /v1/models}:
 * the checkpoint folder's name, {@code default} for the built-in model), its chat template (null
 * when it has none), the token ids that end a generation, and the steering presets fitted at start.
 */
public record Served(String id, Model model, Tokenizer tokenizer, ChatTemplate template, int[] stopIds, Map<String, Intervention> presets) {
    public Served {
        if (id == null || id.isBlank()) throw new IllegalArgumentException("the served model needs an id");
        if (model == null) throw new IllegalArgumentException("no model to serve");
        if (tokenizer == null) throw new IllegalArgumentException("serving needs a tokenizer");
        stopIds = stopIds == null ? new int[0] : stopIds.clone();
        presets = presets == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(presets));
    }

    /**
     * The ids that end a generation: the model config's {@code eos_token_id}s, the tokenizer's
     * end-of-sequence token, and the template's {@code eos_token} (e.g. Gemma's {@code <end_of_turn>}).
     */
    public static int[] stopIds(Model model, Tokenizer tokenizer, ChatTemplate template) {
        var ids = new java.util.TreeSet<Integer>();
        for (int id : model.config().eosTokenIds()) ids.add(id);
        tokenizer.eosId().ifPresent(ids::add);
        if (template != null) template.specialToken("eos_token").flatMap(t -> {
            var id = tokenizer.id(t);
            return id.isPresent() ? java.util.Optional.of(id.getAsInt()) : java.util.Optional.empty();
        }).ifPresent(ids::add);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The model's context, {@code max_position_embeddings}. */
    public int context() {
        return model.config().maxPositions();
    }

    @Override
    public int[] stopIds() {
        return stopIds.clone();
    }
}
