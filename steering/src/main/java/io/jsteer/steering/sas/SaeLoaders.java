/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.weights.SafeTensorsFile;
import io.jsteer.weights.Tensor;
import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** Reads sparse autoencoders in the layouts they are published in. */
public final class SaeLoaders {
    private SaeLoaders() {}

    /**
     * A SAELens directory: {@code cfg.json} ({@code architecture} standard or jumprelu,
     * {@code d_in}, {@code d_sae}, {@code apply_b_dec_to_input} (SAELens's default: true),
     * {@code normalize_activations}, {@code hook_name} at the top level or under {@code meta} /
     * {@code metadata}) and {@code sae_weights.safetensors} ({@code W_enc [d_in][d_sae]},
     * {@code b_enc}, {@code W_dec [d_sae][d_in]}, {@code b_dec}, and {@code threshold} for jumprelu).
     * {@code normalize_activations} must be {@code none} or {@code expected_average_only_in}
     * (identity at inference in SAELens, the scale being folded into the weights).
     */
    public static SparseAutoencoder saeLens(Path dir) {
        Path cfgFile = dir.resolve("cfg.json");
        if (!Files.isRegularFile(cfgFile)) throw new WeightsException(cfgFile, "no such file (a SAELens SAE directory holds cfg.json and sae_weights.safetensors)");
        JsonNode cfg;
        try {
            cfg = new ObjectMapper().readTree(cfgFile.toFile());
        } catch (IOException e) {
            throw new WeightsException(cfgFile, "cannot parse: " + e.getMessage(), e);
        }
        if (cfg == null || !cfg.isObject()) throw new WeightsException(cfgFile, "not a JSON object");
        String arch = text(cfgFile, cfg, "architecture", "standard");
        SparseAutoencoder.Activation act = switch (arch) {
            case "standard" -> SparseAutoencoder.Activation.RELU;
            case "jumprelu" -> SparseAutoencoder.Activation.JUMPRELU;
            default -> throw new WeightsException(cfgFile, "architecture '" + arch + "' is not supported (standard, jumprelu)");
        };
        String fn = cfg.has("activation_fn_str") ? text(cfgFile, cfg, "activation_fn_str", "relu") : text(cfgFile, cfg, "activation_fn", "relu");
        if (!fn.equals("relu")) throw new WeightsException(cfgFile, "activation function '" + fn + "' is not supported (relu)");
        String norm = text(cfgFile, cfg, "normalize_activations", "none");
        if (!norm.equals("none") && !norm.equals("expected_average_only_in")) {
            throw new WeightsException(cfgFile, "normalize_activations '" + norm + "' is not supported (none, expected_average_only_in)");
        }
        int dIn = integer(cfgFile, cfg, "d_in"), dSae = integer(cfgFile, cfg, "d_sae");
        JsonNode apply = cfg.get("apply_b_dec_to_input");
        if (apply != null && !apply.isBoolean()) throw new WeightsException(cfgFile, "apply_b_dec_to_input is not a boolean: " + apply);
        String hook = hookName(cfgFile, cfg);

        Path weights = dir.resolve("sae_weights.safetensors");
        try (SafeTensorsFile st = SafeTensorsFile.open(weights)) {
            float[] wEnc = tensor(st, "W_enc", dIn, dSae), bEnc = tensor(st, "b_enc", dSae);
            float[] wDec = tensor(st, "W_dec", dSae, dIn), bDec = tensor(st, "b_dec", dIn);
            float[] threshold = act == SparseAutoencoder.Activation.JUMPRELU ? tensor(st, "threshold", dSae) : null;
            boolean applyBDec = apply == null || apply.asBoolean();
            return checked(weights, () -> new SparseAutoencoder(weights.toString(), act, dIn, dSae, wEnc, bEnc, wDec, bDec, threshold, applyBDec, hook));
        }
    }

    /**
     * A Gemma Scope {@code params.npz}: {@code W_enc [d_in][d_sae]}, {@code W_dec [d_sae][d_in]},
     * {@code b_enc}, {@code b_dec}, {@code threshold}; JumpReLU without subtracting {@code b_dec}
     * from the input. The file does not record its hook, so the caller names it (e.g.
     * {@code blocks.12.hook_resid_post} for {@code gemma-scope-2b-pt-res/layer_12/...}).
     */
    public static SparseAutoencoder gemmaScope(Path npz, String hookName) {
        Map<String, Npy.Array> arrays = Npy.readNpz(npz);
        for (String name : new String[] {"W_enc", "W_dec", "b_enc", "b_dec", "threshold"}) {
            if (!arrays.containsKey(name)) throw new WeightsException(npz, "missing array '" + name + "' (has " + arrays.keySet() + ")");
        }
        Npy.Array wEnc = arrays.get("W_enc");
        if (wEnc.shape().length != 2) throw new WeightsException(npz, "W_enc has shape " + Arrays.toString(wEnc.shape()) + ", expected [d_in, d_sae]");
        int dIn = Math.toIntExact(wEnc.shape()[0]), dSae = Math.toIntExact(wEnc.shape()[1]);
        float[] wDec = array(npz, arrays.get("W_dec"), "W_dec", dSae, dIn);
        float[] bEnc = array(npz, arrays.get("b_enc"), "b_enc", dSae);
        float[] bDec = array(npz, arrays.get("b_dec"), "b_dec", dIn);
        float[] threshold = array(npz, arrays.get("threshold"), "threshold", dSae);
        return checked(npz, () -> new SparseAutoencoder(npz.toString(), SparseAutoencoder.Activation.JUMPRELU, dIn, dSae, wEnc.data(), bEnc, wDec, bDec,
                threshold, false, hookName));
    }

    /** The SAE's own checks (finite weights, consistent sizes) reported as a defect of {@code file}. */
    private static SparseAutoencoder checked(Path file, java.util.function.Supplier<SparseAutoencoder> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage() == null ? "invalid" : e.getMessage();
            throw new WeightsException(file, m.startsWith(file + ": ") ? m.substring(file.toString().length() + 2) : m);
        }
    }

    private static float[] tensor(SafeTensorsFile st, String name, long... shape) {
        if (!st.has(name)) throw new WeightsException(st.path(), "missing tensor '" + name + "'");
        Tensor t = st.tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new WeightsException(st.path(), name, "has shape " + Arrays.toString(t.shape()) + ", cfg.json implies " + Arrays.toString(shape));
        }
        return t.toFloatArray();
    }

    private static float[] array(Path npz, Npy.Array a, String name, long... shape) {
        if (!Arrays.equals(a.shape(), shape)) {
            throw new WeightsException(npz, "array '" + name + "' has shape " + Arrays.toString(a.shape()) + ", W_enc implies " + Arrays.toString(shape));
        }
        return a.data();
    }

    private static String hookName(Path file, JsonNode cfg) {
        for (String holder : new String[] {"meta", "metadata"}) {
            JsonNode m = cfg.get(holder);
            if (m != null && m.isObject() && m.hasNonNull("hook_name")) return text(file, m, "hook_name", null);
        }
        return cfg.hasNonNull("hook_name") ? text(file, cfg, "hook_name", null) : null;
    }

    private static String text(Path file, JsonNode node, String key, String absent) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            if (absent == null) throw new WeightsException(file, "missing '" + key + "'");
            return absent;
        }
        if (!v.isTextual()) throw new WeightsException(file, "'" + key + "' is not a string: " + v);
        return v.asText();
    }

    private static int integer(Path file, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new WeightsException(file, "'" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }
}
