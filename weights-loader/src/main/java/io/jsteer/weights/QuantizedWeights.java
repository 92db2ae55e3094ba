/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * A checkpoint whose matrices are quantized as they are first read ({@code --quantize}): every
 * 2-D tensor in F32, F16 or BF16 whose rows are whole blocks becomes Q8_0 or Q4_0, encoded as
 * llama-quantize encodes it ({@link Quants#quantizeBlock}); vectors (norms, biases) and matrices
 * already quantized or with rows of other lengths are left as they are. The quantized copies live
 * in native memory owned by this source; the original file stays mapped but is no longer read
 * once the model is built, so the page cache may drop it.
 */
public final class QuantizedWeights implements WeightSource {
    private final WeightSource w;
    private final DType type;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> done = new ConcurrentHashMap<>();

    /** Quantizes the matrices of {@code w} to {@code type} ({@link DType#Q8_0} or {@link DType#Q4_0}) as they are first read. */
    public QuantizedWeights(WeightSource w, DType type) {
        if (type != DType.Q8_0 && type != DType.Q4_0) throw new IllegalArgumentException("quantizing to " + type + " is not supported (Q8_0 and Q4_0 are)");
        this.w = w;
        this.type = type;
    }

    /** The type named on the command line ({@code q8_0}, {@code q4_0}, any case), or null. */
    public static DType parseType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            default -> null;
        };
    }

    @Override
    public boolean has(String name) {
        return w.has(name);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = w.tensor(name);
        if (t.rank() != 2 || t.dtype().isQuantized() || t.shape()[1] % type.blockSize() != 0) return t;
        return done.computeIfAbsent(name, n -> quantize(t));
    }

    private Tensor quantize(Tensor t) {
        int rows = t.dim(0), cols = t.dim(1);
        long rowBytes = type.bytesOf(cols);
        MemorySegment out = arena.allocate(rowBytes * rows, 64);
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] row = new float[cols];
            t.read((long) r * cols, row);
            for (int c = 0; c < cols; c++) {
                if (!Float.isFinite(row[c])) throw new WeightsException(w.path(), t.name(), "holds " + row[c] + " at [" + r + "][" + c + "]; cannot quantize it");
            }
            for (int b = 0; b < cols / type.blockSize(); b++) {
                Quants.quantizeBlock(type, row, b * type.blockSize(), out, r * rowBytes + (long) b * type.blockBytes());
            }
        });
        return new Tensor(t.name(), type, t.shape(), out);
    }

    @Override
    public Set<String> names() {
        return w.names();
    }

    @Override
    public Path path() {
        return w.path();
    }

    /** Frees the quantized copies and unmaps the checkpoint; tensors obtained before must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
        w.close();
    }
}
