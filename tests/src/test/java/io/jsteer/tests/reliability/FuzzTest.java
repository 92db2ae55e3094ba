/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.cli.Main;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.sas.Npy;
import io.jsteer.steering.sas.SaeLoaders;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.steering.vector.GgufControlVector;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.tests.Fixtures;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.TokenizerException;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.NonFiniteException;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.DType;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.SafeTensorsWriter;
import io.jsteer.weights.WeightsException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property-based fuzzing of every input format: seeded mutations (see {@link Mutations}) of a
 * valid file, then the reader and the command line that consume it. For every mutant:
 * <ul>
 * <li>the library either accepts it, and then what it computes is finite, or throws its typed
 *   exception ({@link WeightsException}, {@link TokenizerException}, {@link NonFiniteException})
 *   whose message names the file;</li>
 * <li>the command line exits 0 with finite output, or exits non-zero with one line on stderr and
 *   no stack trace, Java class name or raw parser location in it;</li>
 * <li>no case runs longer than {@value #SECONDS_PER_CASE} s or allocates more than
 *   {@value #ALLOCATION_MB} MB (a tiny file claiming a huge shape must not cost that shape);
 *   no OutOfMemoryError.</li>
 * </ul>
 * Case names hold the format, seed and mutation, so a failure is reproduced by its name.
 */
class FuzzTest {
    static final int CASES = Integer.getInteger("jsteer.fuzz.cases", 40);
    static final int SECONDS_PER_CASE = 20;
    static final long ALLOCATION_MB = 256;

    @TempDir
    static Path base;
    static Path model, tokenizer, vector, saeLens, npz, gguf, contrast, prompts;

    @BeforeAll
    static void validInputs() throws IOException {
        model = Checkpoints.copy("pythia-tiny-parallel", base.resolve("model"));
        tokenizer = Files.copy(Fixtures.dir("pythia-tiny-parallel").resolve("../../fuzz/tiny-bytelevel.json").normalize(), base.resolve("tokenizer.json"));
        Random r = new Random(1);
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        SteeringVector sv = new SteeringVector(new HookName(1, HookPoint.RESID_POST), v, "caa", Map.of("readout", "last"), "fuzz");
        vector = base.resolve("v.safetensors");
        VectorFiles.save(vector, sv);
        gguf = base.resolve("v.gguf");
        GgufControlVector.write(gguf, "gptneox", List.of(sv), 2);

        saeLens = Files.createDirectories(base.resolve("sae"));
        int dIn = 64, dSae = 32;
        Files.writeString(saeLens.resolve("cfg.json"), "{\"architecture\": \"jumprelu\", \"d_in\": 64, \"d_sae\": 32, \"activation_fn_str\": \"relu\","
                + " \"apply_b_dec_to_input\": false, \"normalize_activations\": \"none\", \"hook_name\": \"blocks.1.hook_resid_post\"}");
        new SafeTensorsWriter().add("W_enc", random(r, dIn * dSae), DType.F32, dIn, dSae).add("b_enc", random(r, dSae), DType.F32, dSae)
                .add("W_dec", random(r, dSae * dIn), DType.F32, dSae, dIn).add("b_dec", random(r, dIn), DType.F32, dIn)
                .add("threshold", random(r, dSae), DType.F32, dSae).write(saeLens.resolve("sae_weights.safetensors"));
        Map<String, byte[]> arrays = new LinkedHashMap<>();
        arrays.put("W_enc", npy(random(r, dIn * dSae), dIn, dSae));
        arrays.put("W_dec", npy(random(r, dSae * dIn), dSae, dIn));
        arrays.put("b_enc", npy(random(r, dSae), dSae));
        arrays.put("b_dec", npy(random(r, dIn), dIn));
        arrays.put("threshold", npy(random(r, dSae), dSae));
        npz = Files.write(base.resolve("params.npz"), zip(arrays));

        contrast = Files.writeString(base.resolve("c.jsonl"), "{\"positive\": [1, 2, 3], \"negative\": [3, 4, 5]}\n{\"positive\": [9, 2], \"negative\": [8, 4]}\n");
        prompts = Files.writeString(base.resolve("p.jsonl"), "[1, 2, 3]\n{\"prompt\": [7, 8]}\n[5]\n");
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (0.1 * r.nextGaussian());
        return a;
    }

    /** A version 1.0 {@code .npy} of little-endian float32, written here so the reader under test shares nothing with it. */
    static byte[] npy(float[] data, long... shape) {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) dims.append(d).append(", ");
        StringBuilder h = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.toString().strip() + "), }");
        while ((10 + h.length() + 1) % 64 != 0) h.append(' ');
        h.append('\n');
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length()).put(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        for (float f : data) b.putFloat(f);
        return b.array();
    }

    static byte[] zip(Map<String, byte[]> arrays) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (var e : arrays.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    // ---- the properties ----

    /** Library level: success with finite results, or a typed exception naming {@code named}. */
    private static void libraryProperty(Path named, ThrowingRunnable use) {
        try {
            use.run();
        } catch (WeightsException | TokenizerException | NonFiniteException e) {
            String m = String.valueOf(e.getMessage());
            if (!(e instanceof NonFiniteException) && !m.contains(named.toString())) throw new AssertionError("message does not name " + named + ": " + m, e);
        } catch (OutOfMemoryError e) {
            throw new AssertionError("OutOfMemoryError", e);
        } catch (Exception e) {
            throw new AssertionError("untyped failure " + e.getClass().getName() + ": " + e.getMessage(), e);
        }
    }

    /** Command-line level: exit 0 with finite output, or one clean line on stderr. */
    static void cliProperty(Path out, Object... args) {
        String[] a = Stream.of(args).map(Object::toString).toArray(String[]::new);
        StringWriter so = new StringWriter(), se = new StringWriter();
        int exit = Main.run(a, new PrintWriter(so, true), new PrintWriter(se, true));
        String err = se.toString();
        String context = "\n$ jsteer " + String.join(" ", a) + "\nexit " + exit + "\nstderr: " + err;
        for (String bad : new String[] {"\tat ", "Exception", "java.", "[Source:", "out of memory"}) {
            if (err.contains(bad)) throw new AssertionError("stderr shows '" + bad + "'" + context);
        }
        if (exit == 0) {
            if (out != null && Files.exists(out) && out.toString().endsWith(".json")) assertFinite(out, context);
            return;
        }
        // progress lines ("apply: 2/3") and notes ("resuming: ...") may precede the error
        List<String> lines = err.lines().filter(l -> !l.matches("[a-z]+: \\d+/\\d+.*") && !l.startsWith("resuming: ")).toList();
        if (exit == 1 && lines.size() != 1) throw new AssertionError("expected one line on stderr" + context);
        if (exit == 2 && !(lines.size() == 2 && lines.get(1).startsWith("Try '"))) throw new AssertionError("expected a usage error" + context);
        if (exit != 1 && exit != 2) throw new AssertionError("unexpected exit status" + context);
    }

    private static void assertFinite(Path json, String context) {
        try {
            JsonNode n = Mutations.JSON.readTree(json.toFile());
            n.findValues("logits").forEach(l -> l.forEach(row -> row.forEach(v -> {
                if (!v.isNumber() || !Double.isFinite(v.asDouble())) throw new AssertionError("non-finite logit " + v + context);
            })));
        } catch (IOException e) {
            throw new AssertionError("output is not JSON" + context, e);
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Runs one case with the time and allocation bounds. */
    private static void bounded(ThrowingRunnable body) {
        assertTimeoutPreemptively(Duration.ofSeconds(SECONDS_PER_CASE), () -> {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            body.run();
            long mb = (threads.getCurrentThreadAllocatedBytes() - before) >> 20;
            if (mb > ALLOCATION_MB) throw new AssertionError("allocated " + mb + " MB");
        });
    }

    /**
     * {@link #CASES} cases of {@code format}: the valid {@code file} mutated by {@code mutate}
     * (seeded by the case number) into a copy of {@code home} (file or folder), then {@code check}
     * on the copy's path.
     */
    private static Stream<DynamicTest> cases(String format, Path home, Path file, BiFunction<byte[], Random, Mutations.Mutant> mutate,
                                             BiFunctionThrowing check) {
        byte[] original = read(file);
        return IntStream.range(0, CASES).mapToObj(seed -> {
            Random r = new Random(format.hashCode() * 1000L + seed);
            Mutations.Mutant m = mutate.apply(original, r);
            return dynamicTest(format + " #" + seed + ": " + abbreviate(m.what()), () -> bounded(() -> {
                Path caseDir = Files.createTempDirectory(base, format.replaceAll("[^a-z]", ""));
                Path copyHome = copy(home, caseDir.resolve(home.getFileName()));
                Path target = copyHome.resolve(home.relativize(file));
                if (home.equals(file)) target = copyHome;
                Files.write(target, m.bytes());
                check.accept(target, caseDir);
            }));
        });
    }

    @FunctionalInterface
    interface BiFunctionThrowing {
        void accept(Path mutated, Path caseDir) throws Exception;
    }

    private static String abbreviate(String s) {
        return s.length() > 90 ? s.substring(0, 90) + "..." : s;
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path copy(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) return Files.copy(from, to);
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
        return to;
    }

    /** Either kind of mutation, byte-level or structural. */
    private static BiFunction<byte[], Random, Mutations.Mutant> either(BiFunction<byte[], Random, Mutations.Mutant> structural) {
        return (b, r) -> r.nextInt(3) == 0 ? Mutations.bytes(b, r) : structural.apply(b, r);
    }

    // ---- the formats ----

    private static void forwardFinite(Path dir) {
        Model m = Model.load(dir);
        float[] logits = m.forward(m.newState(), new int[] {1, 2, 3}, false);
        for (float f : logits) if (!Float.isFinite(f)) throw new AssertionError("non-finite logit passed the check");
    }

    @TestFactory
    Stream<DynamicTest> safetensorsCheckpoint() {
        Path file = model.resolve("model.safetensors");
        return cases("safetensors", model, file, either(Mutations::safetensorsHeader), (f, dir) -> {
            Path m = f.getParent();
            libraryProperty(m, () -> forwardFinite(m));
            cliProperty(dir.resolve("out.json"), "logits", "-m", m, "--ids", "1,2,3", "-o", dir.resolve("out.json"));
        });
    }

    @TestFactory
    Stream<DynamicTest> configJson() {
        return Stream.of("pythia-tiny-parallel", "gemma2-tiny", "gemma3-tiny").flatMap(fixture -> {
            Path home = Checkpoints.copy(fixture, base.resolve("config-" + fixture));
            return cases("config.json " + fixture, home, home.resolve("config.json"), either(Mutations::json), (f, dir) -> {
                Path m = f.getParent();
                libraryProperty(m, () -> forwardFinite(m));
                cliProperty(dir.resolve("out.json"), "logits", "-m", m, "--ids", "1,2,3", "-o", dir.resolve("out.json"));
            }).limit(CASES / 2 + 1);
        });
    }

    @TestFactory
    Stream<DynamicTest> shardedIndex() throws IOException {
        Path home = Files.createDirectories(base.resolve("sharded"));
        Files.copy(model.resolve("config.json"), home.resolve("config.json"));
        StringBuilder map = new StringBuilder();
        try (SafeTensorsFile st = SafeTensorsFile.open(model.resolve("model.safetensors"))) {
            SafeTensorsWriter a = new SafeTensorsWriter(), b = new SafeTensorsWriter();
            int i = 0;
            for (String name : st.names()) {
                String shard = i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (shard.contains("00001") ? a : b).add(name, st.tensor(name), DType.F32);
                map.append(map.isEmpty() ? "" : ", ").append('"').append(name).append("\": \"").append(shard).append('"');
            }
            a.write(home.resolve("model-00001-of-00002.safetensors"));
            b.write(home.resolve("model-00002-of-00002.safetensors"));
        }
        Files.writeString(home.resolve("model.safetensors.index.json"), "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {" + map + "}}");
        return Stream.concat(
                cases("index", home, home.resolve("model.safetensors.index.json"), either(Mutations::json), (f, dir) -> {
                    libraryProperty(f.getParent(), () -> forwardFinite(f.getParent()));
                    cliProperty(dir.resolve("out.json"), "logits", "-m", f.getParent(), "--ids", "1,2", "-o", dir.resolve("out.json"));
                }).limit(CASES / 2),
                cases("shard", home, home.resolve("model-00002-of-00002.safetensors"), either(Mutations::safetensorsHeader),
                        (f, dir) -> libraryProperty(f.getParent(), () -> forwardFinite(f.getParent()))).limit(CASES / 2));
    }

    @TestFactory
    Stream<DynamicTest> tokenizerJson() {
        return cases("tokenizer.json", tokenizer, tokenizer, either(Mutations::json), (f, dir) -> {
            libraryProperty(f, () -> {
                Tokenizer t = Tokenizers.load(f);
                int[] ids = t.encode("Hello, world! \u00e9\u00e8 12 tokens");
                t.decode(ids);
            });
            cliProperty(null, "generate", "-m", model, "--tokenizer", f, "-p", "Hello world", "-n", 2);
        });
    }

    @TestFactory
    Stream<DynamicTest> steeringVectorFile() {
        ModelConfig config = ModelConfig.load(model);
        return cases("vector", vector, vector, either(Mutations::safetensorsHeader), (f, dir) -> {
            libraryProperty(f, () -> {
                SteeringVector v = VectorFiles.load(f, config);
                try {
                    new AddVector(v, 4, PositionRule.all());
                } catch (IllegalArgumentException e) {
                    // a readable vector may still be unusable at this coefficient: said so, naming the reason
                    if (!e.getMessage().contains("overflows float32") && !e.getMessage().contains("all zeros")) throw e;
                }
            });
            cliProperty(null, "generate", "-m", model, "--ids", "1,2", "--vector", f, "-c", 4, "-n", 2);
        });
    }

    @TestFactory
    Stream<DynamicTest> saeLensFolder() {
        return Stream.concat(
                cases("sae cfg.json", saeLens, saeLens.resolve("cfg.json"), either(Mutations::json), (f, dir) -> {
                    libraryProperty(f.getParent(), () -> SaeLoaders.saeLens(f.getParent()));
                    cliProperty(null, "generate", "-m", model, "--ids", "1,2", "--method", "sas:sae=" + f.getParent() + ",coeff=2", "--contrast", contrast, "-n", 2);
                }).limit(CASES / 2),
                cases("sae weights", saeLens, saeLens.resolve("sae_weights.safetensors"), either(Mutations::safetensorsHeader),
                        (f, dir) -> libraryProperty(f.getParent(), () -> SaeLoaders.saeLens(f.getParent()))).limit(CASES / 2));
    }

    /** Mutates one {@code .npy} entry of the archive (header text, data length) or the zip container itself. */
    private static Mutations.Mutant npzMutant(byte[] archive, Random r) {
        if (r.nextInt(3) == 0) return Mutations.bytes(archive, r);
        try {
            Map<String, byte[]> arrays = new LinkedHashMap<>();
            try (var z = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(archive))) {
                for (ZipEntry e; (e = z.getNextEntry()) != null; ) arrays.put(e.getName().replace(".npy", ""), z.readAllBytes());
            }
            List<String> names = new ArrayList<>(arrays.keySet());
            String name = names.get(r.nextInt(names.size()));
            byte[] a = arrays.get(name);
            String what;
            if (r.nextBoolean()) {
                String header = new String(a, 10, a.length >= 10 ? (a[8] & 0xff) | (a[9] & 0xff) << 8 : 0, StandardCharsets.ISO_8859_1);
                String[] edits = {"(4294967296, 64)", "(-1,)", "(1073741848, 1073741848)", "(64, 32, 0)", "()", "(9223372036854775807,)", "(2, 'a')"};
                String dims = edits[r.nextInt(edits.length)];
                String mutated = r.nextInt(4) == 0 ? header.replace("<f4", new String[] {"<i4", ">f4", "|b1", "<f8"}[r.nextInt(4)])
                        : header.replaceFirst("\\(.*\\)", dims.replace("$", ""));
                byte[] out = a.clone();
                byte[] h = mutated.getBytes(StandardCharsets.ISO_8859_1);
                if (h.length == header.length()) System.arraycopy(h, 0, out, 10, h.length);
                else {
                    out = new byte[10 + h.length + (a.length - 10 - header.length())];
                    System.arraycopy(a, 0, out, 0, 10);
                    out[8] = (byte) h.length;
                    out[9] = (byte) (h.length >> 8);
                    System.arraycopy(h, 0, out, 10, h.length);
                    System.arraycopy(a, 10 + header.length(), out, 10 + h.length, a.length - 10 - header.length());
                }
                a = out;
                what = name + ".npy header " + mutated.strip();
            } else {
                Mutations.Mutant m = Mutations.bytes(a, r);
                a = m.bytes();
                what = name + ".npy " + m.what();
            }
            arrays.put(name, a);
            return new Mutations.Mutant(zip(arrays), what);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> gemmaScopeNpz() {
        return cases("npz", npz, npz, FuzzTest::npzMutant, (f, dir) -> {
            libraryProperty(f, () -> SaeLoaders.gemmaScope(f, "blocks.1.hook_resid_post"));
            cliProperty(null, "generate", "-m", model, "--ids", "1,2", "--method", "sas:sae=" + f + ",layer=1,coeff=2", "--contrast", contrast, "-n", 2);
        });
    }

    @TestFactory
    Stream<DynamicTest> npyArray() throws IOException {
        Path file = Files.write(base.resolve("a.npy"), npy(random(new Random(3), 48), 6, 8));
        return cases("npy", file, file, (b, r) -> {
            try {
                return npzMutant(zip(Map.of("a", b)), r);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, (f, dir) -> {
            // the mutant is an archive; its one entry, written out, is the .npy under test
            try (var z = new java.util.zip.ZipInputStream(Files.newInputStream(f))) {
                ZipEntry e = z.getNextEntry();
                if (e == null) return;
                Files.write(f, z.readAllBytes());
            } catch (IOException | RuntimeException notAZip) {
                // a mangled container is the npz test's business; this one keeps the bytes as they are
            }
            libraryProperty(f, () -> Npy.read(f));
        });
    }

    @TestFactory
    Stream<DynamicTest> ggufControlVector() {
        return cases("gguf", gguf, gguf, (b, r) -> Mutations.bytes(b, r), (f, dir) -> libraryProperty(f, () -> GgufControlVector.read(f)));
    }

    @TestFactory
    Stream<DynamicTest> promptAndContrastFiles() {
        return Stream.concat(
                cases("prompts.jsonl", prompts, prompts, Mutations::jsonLines, (f, dir) ->
                        cliProperty(null, "apply", "-m", model, "--prompts", f, "--method", "caa:layer=1,coeff=2", "--contrast", contrast, "-n", 2,
                                "-o", dir.resolve("out.jsonl"))),
                cases("contrast.jsonl", contrast, contrast, Mutations::jsonLines, (f, dir) ->
                        cliProperty(null, "vector", "-m", model, "--method", "caa:layer=1", "--contrast", f, "-o", dir.resolve("v.safetensors"))));
    }

    /** Option values at and past their domain's edges. */
    @TestFactory
    Stream<DynamicTest> optionValues() {
        String[][] options = {
                {"-n", "-1", "0", "1000000000", "2147483648", "x", "1e3"},
                {"-c", "NaN", "Infinity", "-Infinity", "1e39", "-1e39", "1e300", "0"},
                {"-t", "-1", "NaN", "Infinity", "1e-45", "1e30"},
                {"--top-p", "0", "-0.5", "2", "NaN"},
                {"--top-k", "-1", "0", "2147483647"},
                {"--ids", "", "-1", "99999999999", "1,,2", "512", "1,2,a", " "},
                {"--seed", "-1", "9223372036854775807", "x"}};
        List<DynamicTest> tests = new ArrayList<>();
        for (String[] o : options) {
            for (int i = 1; i < o.length; i++) {
                String name = o[0], value = o[i];
                tests.add(dynamicTest("option " + name + " " + value, () -> bounded(() -> {
                    List<Object> args = new ArrayList<>(List.of("generate", "-m", model, "-n", 3, "--vector", vector, "-c", 2));
                    if (!name.equals("--ids")) args.addAll(List.of("--ids", "1,2"));
                    if (!name.equals("-t") && (name.equals("--top-p") || name.equals("--top-k"))) args.addAll(List.of("-t", "1"));
                    args.addAll(List.of(name, value));
                    cliProperty(null, args.toArray());
                })));
            }
        }
        for (String layers : new String[] {"-1", "99", "a", "", "2147483648"}) {
            tests.add(dynamicTest("method layer " + layers, () -> bounded(() ->
                    cliProperty(null, "generate", "-m", model, "--ids", "1,2", "-n", 2, "--method", "caa:layer=" + layers, "--contrast", contrast))));
        }
        return tests.stream();
    }
}
