/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.MethodSpec;
import io.jsteer.cli.steer.Methods;
import io.jsteer.cli.steer.PositionRules;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.steering.vector.VectorMethod;
import io.jsteer.transformer.hooks.HookName;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What to steer with, in a form that travels to the executors: nothing, a fitted vector added
 * with a coefficient at some positions, or a method whose intervention is not a vector, fitted on
 * each executor once (fitting is deterministic, so every executor fits the same intervention as
 * the driver did). Built on the driver with {@link #none}, {@link #vector} or {@link #fit}.
 */
public sealed interface Steer extends Serializable {
    /** The intervention on {@code m} (null for {@link None}), built once per JVM. */
    Intervention build(LoadedModel m);

    /** The {@code setting} provenance column: the intervention's {@code describe()}, or {@code unsteered}. */
    String setting();

    /** The {@code vector_hash} provenance column (null when unsteered). */
    String hash();

    /** No steering. */
    static Steer none() {
        return new None();
    }

    /** Adds the vector saved in {@code file} with {@code coefficient} at {@code positions} (e.g. {@code all}, {@code from:5}). */
    static Steer vector(Path file, double coefficient, String positions) {
        return vector(VectorFiles.load(file), coefficient, positions);
    }

    /** Adds {@code v} with {@code coefficient} at {@code positions}. */
    static Steer vector(SteeringVector v, double coefficient, String positions) {
        Vector s = new Vector(v.hook().toString(), v.direction(), v.method(), new TreeMap<>(v.parameters()), v.model(), coefficient, positions);
        s.intervention(); // fails here, on the driver, on a bad position rule or coefficient
        return s;
    }

    /**
     * Fits the method of {@code spec} (e.g. {@code caa:layer=2,coeff=4}) on {@code data} on the
     * driver. A vector method's vector is what travels; other methods are fitted again on each
     * executor from the same data.
     */
    static Steer fit(String spec, ModelSource model, ContrastSet data) {
        LoadedModel m = ModelCache.get(model, 0);
        MethodSpec parsed = MethodSpec.parse(spec);
        SteeringMethod method = Methods.create(parsed, m.model().config());
        if (method instanceof VectorMethod vm) {
            AddVector v = vm.fit(m.model(), data);
            return vector(v.vector(), v.coefficient(), parsed.params().getOrDefault("positions", "all"));
        }
        return fitted(parsed.toString(), m, data, method.fit(m.model(), data));
    }

    /** The method of {@code spec}, already fitted on {@code data} as {@code fitted} on the driver's {@code m}, fitted again on each executor. */
    static Steer fitted(String spec, LoadedModel m, ContrastSet data, Intervention fitted) {
        Fitted f = new Fitted(spec, copy(data.positive()), copy(data.negative()), fitted.describe());
        Fitted.CACHE.put(f.hash() + "\0" + m.dir(), fitted);
        return f;
    }

    private static List<int[]> copy(List<int[]> ids) {
        List<int[]> out = new ArrayList<>(ids.size());
        for (int[] a : ids) out.add(a.clone());
        return out;
    }

    /** No steering. */
    record None() implements Steer {
        @Override
        public Intervention build(LoadedModel m) {
            return null;
        }

        @Override
        public String setting() {
            return "unsteered";
        }

        @Override
        public String hash() {
            return null;
        }
    }

    /** {@link AddVector} of a vector, carried as its values. */
    record Vector(String hook, float[] direction, String method, TreeMap<String, String> parameters, String model,
                  double coefficient, String positions) implements Steer {
        SteeringVector vector() {
            return new SteeringVector(HookName.parse(hook), direction, method, parameters, model);
        }

        AddVector intervention() {
            return new AddVector(vector(), coefficient, PositionRules.positions(positions));
        }

        @Override
        public Intervention build(LoadedModel m) {
            AddVector v = intervention();
            v.vector().requireCompatible(m.model().config());
            return v;
        }

        @Override
        public String setting() {
            return intervention().describe();
        }

        /** SHA-256 of the hook point's name and the values (float32, little-endian): the same vector hashes the same from a file or a fit. */
        @Override
        public String hash() {
            ByteBuffer b = ByteBuffer.allocate(direction.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : direction) b.putFloat(f);
            return sha256(hook.getBytes(StandardCharsets.UTF_8), new byte[] {0}, b.array());
        }
    }

    /** A method whose intervention is not a vector, fitted on each executor once from the same contrast prompts. */
    record Fitted(String spec, List<int[]> positive, List<int[]> negative, String setting) implements Steer {
        static final Map<String, Intervention> CACHE = new ConcurrentHashMap<>();

        @Override
        public Intervention build(LoadedModel m) {
            return CACHE.computeIfAbsent(hash() + "\0" + m.dir(), k -> {
                SteeringMethod method = Methods.create(MethodSpec.parse(spec), m.model().config());
                return method.fit(m.model(), new ContrastSet(positive, negative));
            });
        }

        /** SHA-256 of the method spec and the contrast prompts' token ids. */
        @Override
        public String hash() {
            List<byte[]> parts = new ArrayList<>();
            parts.add(spec.getBytes(StandardCharsets.UTF_8));
            for (List<int[]> side : List.of(positive, negative)) {
                parts.add(new byte[] {1});
                for (int[] p : side) {
                    ByteBuffer b = ByteBuffer.allocate(4 + p.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    b.putInt(p.length);
                    for (int id : p) b.putInt(id);
                    parts.add(b.array());
                }
            }
            return sha256(parts.toArray(byte[][]::new));
        }
    }

    private static String sha256(byte[]... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) sha.update(p);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
