/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.kernels.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of this JVM: each checkpoint is mapped once and its {@link Model} shared by every
 * task the JVM runs, at once or one after another (a model is read-only; each sequence has its
 * own state). Interventions built from a {@link Steer} are kept the same way, so a method fitted
 * on an executor is fitted once there.
 */
final class ModelCache {
    private ModelCache() {}

    private static final ConcurrentHashMap<ModelSource, LoadedModel> MODELS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<ModelSource, AtomicInteger> LOADS = new ConcurrentHashMap<>();

    /**
     * The model of {@code source}, mapped on first use. {@code threads > 0} asks for that many
     * kernel threads; it takes effect when it is set before the JVM's first forward pass (the
     * kernel pool is made once per JVM), which is the case on an executor whose first task this is.
     */
    static LoadedModel get(ModelSource source, int threads) {
        if (threads > 0 && System.getProperty(Parallel.THREADS_PROPERTY) == null) {
            System.setProperty(Parallel.THREADS_PROPERTY, Integer.toString(threads));
        }
        return MODELS.computeIfAbsent(source, ModelCache::load);
    }

    private static LoadedModel load(ModelSource source) {
        Path dir = source.path();
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model folder " + dir + " does not exist on this node");
        Path tok = source.tokenizer() != null ? Path.of(source.tokenizer()) : dir.resolve("tokenizer.json");
        Tokenizer t = source.tokenizer() != null || Files.isRegularFile(tok) ? Tokenizers.load(tok) : null;
        LOADS.computeIfAbsent(source, k -> new AtomicInteger()).incrementAndGet();
        return new LoadedModel(dir.toString(), dir, Model.load(dir), t);
    }

    /** How many times this JVM has mapped {@code source} (at most once). */
    static int loads(ModelSource source) {
        AtomicInteger n = LOADS.get(source);
        return n == null ? 0 : n.get();
    }
}
