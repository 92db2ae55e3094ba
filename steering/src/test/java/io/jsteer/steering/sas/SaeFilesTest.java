/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .npy / .npz / SAELens reading and SAE encode/decode against NumPy's results. */
class SaeFilesTest {
    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(SaeFilesTest.class.getResource("/sae/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode reference() throws IOException {
        return new ObjectMapper().readTree(resource("reference.json").toFile());
    }

    static float[] row(JsonNode rows, int r) {
        JsonNode a = rows.get(r);
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
        return out;
    }

    static void assertRow(JsonNode rows, int r, double[] actual, String what) {
        JsonNode a = rows.get(r);
        assertEquals(a.size(), actual.length, what);
        for (int i = 0; i < actual.length; i++) assertEquals(a.get(i).asDouble(), actual[i], 1e-5, what + "[" + i + "]");
    }

    @Test
    void readsNpzStoredAndCompressed() {
        Map<String, Npy.Array> stored = Npy.readNpz(resource("params.npz"));
        Map<String, Npy.Array> deflated = Npy.readNpz(resource("params_compressed.npz"));
        assertEquals(stored.keySet(), deflated.keySet());
        for (String k : stored.keySet()) {
            assertArrayEquals(stored.get(k).shape(), deflated.get(k).shape(), k);
            assertArrayEquals(stored.get(k).data(), deflated.get(k).data(), k);
        }
        assertArrayEquals(new long[] {6, 10}, stored.get("W_enc").shape());
        assertArrayEquals(new long[] {6}, stored.get("b_dec").shape());
        // Fortran order is transposed back to row-major
        assertArrayEquals(stored.get("W_enc").data(), Npy.read(resource("fortran.npy")).data());
    }

    @Test
    void refusesWhatItCannotRead() throws IOException {
        WeightsException e = assertThrows(WeightsException.class, () -> Npy.read(resource("big_endian.npy")));
        assertEquals(resource("big_endian.npy") + ": dtype '>f4' is not supported (expected a little-endian float: <f4, <f8 or <f2)", e.getMessage());
        e = assertThrows(WeightsException.class, () -> Npy.read(resource("int32.npy")));
        assertEquals(resource("int32.npy") + ": dtype '<i4' is not supported (expected a little-endian float: <f4, <f8 or <f2)", e.getMessage());

        byte[] good = Files.readAllBytes(resource("fortran.npy"));
        Path cut = tmp.resolve("cut.npy");
        Files.write(cut, Arrays.copyOf(good, good.length - 4));
        e = assertThrows(WeightsException.class, () -> Npy.read(cut));
        assertEquals(cut + ": truncated data: shape [6, 10] of <f4 needs 240 bytes but 236 follow the header", e.getMessage());

        Path notZip = tmp.resolve("params.npz");
        Files.write(notZip, good);
        e = assertThrows(WeightsException.class, () -> Npy.readNpz(notZip));
        assertEquals(notZip + ": not a valid .npz (zip) archive: zip END header not found", e.getMessage());

        Path noMagic = tmp.resolve("x.npy");
        Files.writeString(noMagic, "hello world");
        e = assertThrows(WeightsException.class, () -> Npy.read(noMagic));
        assertEquals(noMagic + ": not a .npy array (no \\x93NUMPY magic)", e.getMessage());
    }

    @Test
    void gemmaScopeJumpReluMatchesNumpy() throws IOException {
        SparseAutoencoder sae = SaeLoaders.gemmaScope(resource("params.npz"), "blocks.1.hook_resid_post");
        assertEquals(6, sae.dIn());
        assertEquals(10, sae.dSae());
        assertEquals(new HookName(1, HookPoint.RESID_POST), sae.hook());
        JsonNode ref = reference();
        for (int r = 0; r < 3; r++) {
            double[] f = sae.encode(row(ref.get("x"), r), 0);
            assertRow(ref.get("jumprelu_features"), r, f, "features " + r);
            assertRow(ref.get("jumprelu_reconstruction"), r, sae.decode(f), "reconstruction " + r);
        }
    }

    @Test
    void saeLensDirectoriesMatchNumpy() throws IOException {
        JsonNode ref = reference();
        SparseAutoencoder jump = SaeLoaders.saeLens(resource("saelens-jumprelu"));
        SparseAutoencoder standard = SaeLoaders.saeLens(resource("saelens-standard"));
        assertEquals(SparseAutoencoder.Activation.JUMPRELU, jump.activation());
        assertEquals(SparseAutoencoder.Activation.RELU, standard.activation());
        assertEquals("blocks.1.hook_resid_post", jump.hookName());
        assertEquals("blocks.1.hook_resid_pre", standard.hookName());
        for (int r = 0; r < 3; r++) {
            float[] x = row(ref.get("x"), r);
            assertRow(ref.get("jumprelu_features"), r, jump.encode(x, 0), "jumprelu " + r);
            double[] f = standard.encode(x, 0);
            assertRow(ref.get("standard_b_dec_in_features"), r, f, "standard " + r);
            assertRow(ref.get("standard_b_dec_in_reconstruction"), r, standard.decode(f), "standard reconstruction " + r);
        }
    }

    @Test
    void saeLensErrorsNameTheProblem() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("gated"));
        Files.copy(resource("saelens-standard/sae_weights.safetensors"), dir.resolve("sae_weights.safetensors"));
        Files.writeString(dir.resolve("cfg.json"), "{\"architecture\": \"gated\", \"d_in\": 6, \"d_sae\": 10}");
        WeightsException e = assertThrows(WeightsException.class, () -> SaeLoaders.saeLens(dir));
        assertEquals(dir.resolve("cfg.json") + ": architecture 'gated' is not supported (standard, jumprelu)", e.getMessage());

        Files.writeString(dir.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": 7, \"d_sae\": 10}");
        e = assertThrows(WeightsException.class, () -> SaeLoaders.saeLens(dir));
        assertEquals(dir.resolve("sae_weights.safetensors") + ": tensor 'W_enc': has shape [6, 10], cfg.json implies [7, 10]", e.getMessage());

        Files.writeString(dir.resolve("cfg.json"), "{\"architecture\": \"jumprelu\", \"d_in\": 6, \"d_sae\": 10}");
        e = assertThrows(WeightsException.class, () -> SaeLoaders.saeLens(dir));
        assertEquals(dir.resolve("sae_weights.safetensors") + ": missing tensor 'threshold'", e.getMessage());

        Files.writeString(dir.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": 6, \"d_sae\": 10, \"normalize_activations\": \"layer_norm\"}");
        e = assertThrows(WeightsException.class, () -> SaeLoaders.saeLens(dir));
        assertEquals(dir.resolve("cfg.json") + ": normalize_activations 'layer_norm' is not supported (none, expected_average_only_in)", e.getMessage());

        Files.writeString(dir.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": 6, \"d_sae\": 10, \"hook_name\": \"blocks.1.attn.hook_z\"}");
        SparseAutoencoder z = SaeLoaders.saeLens(dir);
        assertNull(z.hook(), "a hook outside blocks.L.hook_X is kept as a name only");
        IllegalArgumentException iae = assertThrows(IllegalArgumentException.class, () -> new Sas(z, 1));
        assertEquals(dir.resolve("sae_weights.safetensors") + ": the SAE names no blocks.L.hook_X hook point (hook_name blocks.1.attn.hook_z); give one explicitly", iae.getMessage());

        WeightsException missing = assertThrows(WeightsException.class, () -> SaeLoaders.gemmaScope(resource("fortran.npy"), "blocks.0.hook_resid_post"));
        assertEquals(resource("fortran.npy") + ": not a valid .npz (zip) archive: zip END header not found", missing.getMessage());
    }
}
