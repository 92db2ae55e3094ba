/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.SafeTensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the benchmark inputs: Hugging Face checkpoint directories ({@code config.json} +
 * {@code model.safetensors}) of the {@link ModelShape}s with random weights, and the single
 * matrices of the matrix-vector benchmark. Weights are generated while being written, so a 10 GB
 * checkpoint needs no more memory than a small one. Existing outputs are kept.
 *
 * <pre>
 * ModelGenerator DIR SPEC...     SPEC: pythia-160m:bf16, gemma-2-2b:f32, ... or matrices
 * </pre>
 */
public final class ModelGenerator {
    /** Rows and columns of the matrix-vector benchmark's matrix: 128-256 MB, far beyond the last-level cache. */
    public static final int MATRIX_ROWS = 8192, MATRIX_COLS = 8192;

    private ModelGenerator() {}

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: ModelGenerator DIR SPEC...   SPEC: <shape>:<dtype> (shapes: pythia-160m, pythia-410m, gemma-2-2b; dtypes: f32, f16, bf16) or 'matrices'");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        for (int i = 1; i < args.length; i++) {
            String spec = args[i];
            if (spec.equals("matrices")) {
                for (DType t : DType.values()) if (!t.isQuantized()) matrix(dir, t);
                continue;
            }
            int colon = spec.indexOf(':');
            if (colon < 0) throw new IllegalArgumentException("model spec '" + spec + "' is not <shape>:<dtype>, e.g. pythia-160m:bf16");
            model(dir, ModelShape.of(spec.substring(0, colon)), dtype(spec.substring(colon + 1)));
        }
    }

    /** The dtype named as in a spec ({@code f32}, {@code f16}, {@code bf16}). */
    public static DType dtype(String name) {
        try {
            return DType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown dtype '" + name + "': expected f32, f16 or bf16", e);
        }
    }

    /** The checkpoint directory of {@code shape} in {@code dtype} under {@code root}, written if absent. */
    public static Path model(Path root, ModelShape shape, DType dtype) {
        Path dir = root.resolve(shape.dirName(dtype));
        Path weights = dir.resolve(Checkpoint.SINGLE_FILE);
        if (Files.exists(weights) && Files.exists(dir.resolve("config.json"))) return dir;
        try {
            Files.createDirectories(dir);
            ObjectMapper json = new ObjectMapper();
            Path tmp = Files.createTempFile(dir, "config", ".json.tmp");
            try {
                json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), shape.config(json, dtype));
                Files.move(tmp, dir.resolve("config.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve("config.json"), e);
        }
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, long[]> e : shape.tensors().entrySet()) {
            String name = e.getKey();
            w.add(name, dtype, e.getValue(), values(name, e.getValue()));
        }
        long t0 = System.nanoTime();
        w.write(weights);
        System.out.printf("wrote %s (%.2f GB) in %.0f s%n", weights, size(weights) / 1e9, (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    /** The matrix-vector benchmark's matrix stored as {@code dtype}, written if absent. */
    public static Path matrix(Path root, DType dtype) {
        Path file = root.resolve("matrix-" + dtype.name().toLowerCase(Locale.ROOT) + ".safetensors");
        if (Files.exists(file)) return file;
        long[] shape = {MATRIX_ROWS, MATRIX_COLS};
        new SafeTensorsWriter().add("w", dtype, shape, values("w", shape)).write(file);
        System.out.printf("wrote %s (%.2f GB)%n", file, size(file) / 1e9);
        return file;
    }

    /**
     * Values like a trained model's at initialisation: matrices and biases uniform with standard
     * deviation 0.02, LayerNorm weights around 1, Gemma RMSNorm weights (stored as offsets from 1)
     * around 0.
     */
    private static SafeTensorsWriter.Values values(String name, long[] shape) {
        long seed = name.hashCode() * 0x9E3779B97F4A7C15L;
        boolean layerNormWeight = shape.length == 1 && name.startsWith("gpt_neox") && name.endsWith(".weight");
        float base = layerNormWeight ? 1f : 0f;
        float halfWidth = shape.length == 2 ? 0.02f * (float) Math.sqrt(3) : 0.1f;
        return (from, out) -> {
            for (int i = 0; i < out.length; i++) out[i] = base + halfWidth * uniform(seed, from + i);
        };
    }

    /** A hash of {@code (seed, i)} mapped to {@code [-1, 1)}: any chunk can be generated independently. */
    private static float uniform(long seed, long i) {
        long z = seed + i * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 40) * 0x1p-23f - 1f;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
