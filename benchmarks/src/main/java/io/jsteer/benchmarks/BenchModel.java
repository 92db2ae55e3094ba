/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import io.jsteer.steering.PositionRule;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.transformer.LayerWeights;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** A generated checkpoint opened for a benchmark, with the figures the roofline needs. */
final class BenchModel implements AutoCloseable {
    final String name;
    final Path dir;
    /** The weights file: model.safetensors in the folder, or the GGUF file itself. */
    final Path weightsFile;
    final Model model;
    /** The whole weights file, mapped again for the streaming-read reference. */
    final MemorySegment file;
    private final Arena arena = Arena.ofShared();

    BenchModel(String benchDir, String name) {
        this.name = name;
        this.dir = Path.of(benchDir).resolve(name);
        boolean gguf = Files.isRegularFile(dir) && Checkpoint.isGguf(dir);
        if (!Files.isDirectory(dir) && !gguf) {
            throw new IllegalArgumentException("no generated model at " + dir + ": run benchmarks/run.sh, or ModelGenerator " + benchDir + " <shape>:<dtype>");
        }
        this.model = Model.load(dir);
        Path weights = gguf ? dir : dir.resolve(Checkpoint.SINGLE_FILE);
        this.weightsFile = weights;
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.READ)) {
            this.file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + weights, e);
        }
    }

    /**
     * Bytes of mapped weights one decoded token reads: every layer matrix and the unembedding
     * once (a tied embedding counts once); the embedding lookup reads one row and is left out.
     */
    long bytesPerToken() {
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        List<Tensor> read = new ArrayList<>();
        for (LayerWeights w : model.weights().layers()) {
            for (Tensor t : new Tensor[] {w.qkv(), w.q(), w.k(), w.v(), w.o(), w.gate(), w.up(), w.down()}) {
                if (t != null && seen.put(t, true) == null) read.add(t);
            }
        }
        if (seen.put(model.weights().lmHead(), true) == null) read.add(model.weights().lmHead());
        long n = 0;
        for (Tensor t : read) n += t.data().byteSize();
        return n;
    }

    /** A fresh sequence that has read a {@code length}-token prompt, with the steering hook attached when asked. */
    State prompted(int length, boolean steered) {
        State s = model.newState();
        if (steered) steer(s);
        model.forward(s, tokens(length, 1), false);
        return s;
    }

    /**
     * The hook the steering cost is measured with: a random unit vector times 4 added to
     * resid_post of the middle layer at every position (activation addition, CAA-style).
     */
    void steer(State s) {
        int d = model.config().hiddenSize(), layer = model.config().numLayers() / 2;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] v = new float[d];
        double norm = 0;
        for (int i = 0; i < d; i++) norm += (v[i] = (float) rnd.nextGaussian()) * v[i];
        for (int i = 0; i < d; i++) v[i] /= (float) Math.sqrt(norm);
        SteeringVector sv = new SteeringVector(new HookName(layer, HookPoint.RESID_POST), v, "bench", Map.of(), name);
        new AddVector(sv, 4.0, PositionRule.all()).attach(s);
    }

    /** {@code n} token ids spread over the vocabulary, reproducible from {@code seed}. */
    int[] tokens(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rnd.nextInt(model.config().vocabSize());
        return t;
    }

    @Override
    public void close() {
        arena.close();
    }
}
