/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The hyper-parameters of a checkpoint, read from Hugging Face {@code config.json}, with each
 * family's defaults filled in so the forward pass never looks at raw JSON.
 *
 * @param ropeTheta          RoPE base of global layers
 * @param ropeLocalTheta     RoPE base of sliding-window layers (Gemma 3), else {@code ropeTheta}
 * @param ropeScalingFactor  linear RoPE scaling of global layers (1 when none)
 * @param rotaryDims         number of leading head dimensions rotated (GPT-NeoX partial rotary)
 * @param slidingWindow      window size, 0 when no layer slides
 * @param slidingPattern     Gemma 3: every {@code slidingPattern}-th layer is global; Gemma 2: 2
 * @param attnSoftcap        attention logit soft-cap, 0 when none
 * @param finalSoftcap       final logit soft-cap, 0 when none
 * @param attentionScale     multiplier of q.k (1/sqrt(head_dim) or query_pre_attn_scalar^-1/2)
 * @param eosTokenIds        every end-of-sequence id ({@code eos_token_id} may list several, as Gemma 3's does)
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        float normEps,
        Activation activation,
        double ropeTheta,
        double ropeLocalTheta,
        double ropeScalingFactor,
        int rotaryDims,
        boolean parallelResidual,
        boolean attentionBias,
        boolean tieWordEmbeddings,
        int slidingWindow,
        int slidingPattern,
        float attnSoftcap,
        float finalSoftcap,
        float attentionScale,
        int maxPositions,
        int bosTokenId,
        int[] eosTokenIds) {


    /** Reads {@code dir/config.json} (or the given file). */
    public static ModelConfig load(Path configJson) {
        Path file = Files.isDirectory(configJson) ? configJson.resolve("config.json") : configJson;
        if (!Files.isRegularFile(file)) throw new WeightsException(file, "no such file");
        JsonNode root;
        try {
            root = Json.STRICT.readTree(file.toFile());
        } catch (IOException e) {
            throw new WeightsException(file, "cannot parse config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new WeightsException(file, "config is not a JSON object");
        return parse(file, root);
    }

    /** Builds a config from parsed JSON; {@code file} is only used in error messages. */
    public static ModelConfig parse(Path file, JsonNode c) {
        JsonNode archs = c.path("architectures");
        if (!archs.isArray() || archs.isEmpty()) throw new WeightsException(file, "no 'architectures' entry");
        String archName = archs.get(0).asText();
        Architecture arch = Architecture.fromHfName(archName);
        if (arch == null) {
            throw new WeightsException(file, "unknown architecture '" + archName
                    + "' (supported: GPTNeoXForCausalLM, GemmaForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM)");
        }
        Reader r = new Reader(file, c);
        int hidden = r.positiveInt("hidden_size");
        int heads = r.positiveInt("num_attention_heads");
        int layers = r.positiveInt("num_hidden_layers");
        int vocab = r.positiveInt("vocab_size");
        int inter = r.positiveInt("intermediate_size");
        boolean neox = arch == Architecture.GPT_NEOX;
        int kvHeads = neox ? heads : r.positiveInt("num_key_value_heads", heads);
        int headDim = neox ? hidden / heads : r.positiveInt("head_dim", hidden / heads);
        if (neox && hidden % heads != 0) throw new WeightsException(file, "hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        if (heads % kvHeads != 0) throw new WeightsException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        r.product("num_attention_heads x head_dim", heads, headDim);
        r.product("3 x hidden_size", 3, hidden);

        String actName = neox ? r.string("hidden_act", "gelu") : geminiActivation(r);
        Activation act = Activation.fromHfName(actName);
        if (act == null) throw new WeightsException(file, "unsupported activation '" + actName + "'");

        double theta = neox ? r.positiveNumber("rotary_emb_base", r.positiveNumber("rope_theta", 10000)) : r.positiveNumber("rope_theta", 10000);
        double localTheta = arch == Architecture.GEMMA3 ? r.positiveNumber("rope_local_base_freq", 10000) : theta;
        double scaling = ropeScaling(file, c.get("rope_scaling"));
        int rotary = headDim;
        if (neox) {
            String key = c.hasNonNull("rotary_pct") ? "rotary_pct" : "partial_rotary_factor";
            double fraction = r.number(key, 1);
            if (!(fraction > 0 && fraction <= 1)) throw new WeightsException(file, "'" + key + "' must be in (0, 1], got " + fraction);
            rotary = (int) (headDim * fraction);
            if (rotary == 0 || rotary % 2 != 0) {
                throw new WeightsException(file, "'" + key + "' " + fraction + " of head_dim " + headDim + " rotates " + rotary
                        + " dimensions; RoPE needs a positive even number");
            }
        }

        int window = 0, pattern = 0;
        if (arch == Architecture.GEMMA2) {
            window = r.positiveInt("sliding_window", 4096);
            pattern = 2;
        } else if (arch == Architecture.GEMMA3) {
            window = r.positiveInt("sliding_window", 4096);
            pattern = r.positiveInt("sliding_window_pattern", 6);
            checkLayerTypes(file, c.path("layer_types"), layers, pattern);
        }
        float scale = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3
                ? (float) (1 / Math.sqrt(r.positiveNumber("query_pre_attn_scalar", headDim)))
                : (float) (1 / Math.sqrt(headDim));
        boolean gemma23 = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3;
        r.tokenIds("pad_token_id", 0, vocab);
        return new ModelConfig(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim,
                r.normEps(neox ? "layer_norm_eps" : "rms_norm_eps", neox ? 1e-5 : 1e-6),
                act, theta, localTheta, scaling, rotary,
                neox && r.bool("use_parallel_residual", true),
                neox ? r.bool("attention_bias", true) : r.bool("attention_bias", false),
                r.bool("tie_word_embeddings", !neox),
                window, pattern,
                gemma23 ? r.softcap("attn_logit_softcapping") : 0,
                gemma23 ? r.softcap("final_logit_softcapping") : 0,
                scale,
                r.positiveInt("max_position_embeddings", 8192),
                r.tokenIds("bos_token_id", neox ? 0 : 2, vocab)[0],
                r.tokenIds("eos_token_id", neox ? 0 : 1, vocab));
    }

    /**
     * Gemma's MLP activation. transformers v4.47 (the reference) reads {@code hidden_activation}
     * and falls back to the tanh approximation when it is null, ignoring {@code hidden_act}.
     */
    private static String geminiActivation(Reader r) {
        return r.string("hidden_activation", "gelu_pytorch_tanh");
    }

    /** The linear scaling factor of {@code rope_scaling} (1 when absent or of type default). */
    private static double ropeScaling(Path file, JsonNode rs) {
        if (rs == null || rs.isNull()) return 1;
        if (!rs.isObject()) throw new WeightsException(file, "'rope_scaling' must be an object or null, got " + rs);
        JsonNode typeNode = rs.hasNonNull("rope_type") ? rs.get("rope_type") : rs.get("type");
        if (typeNode != null && !typeNode.isTextual()) throw new WeightsException(file, "'rope_scaling.rope_type' must be a string, got " + typeNode);
        String type = typeNode == null ? "" : typeNode.asText();
        if (!type.equals("linear") && !type.equals("default")) throw new WeightsException(file, "unsupported rope_scaling type '" + type + "'");
        if (!type.equals("linear")) return 1;
        JsonNode f = rs.get("factor");
        if (f == null || !f.isNumber() || !Double.isFinite(f.asDouble()) || f.asDouble() <= 0) {
            throw new WeightsException(file, "'rope_scaling.factor' must be a positive number, got " + f);
        }
        return f.asDouble();
    }

    /**
     * Newer Gemma 3 configs list {@code layer_types} explicitly; we implement the periodic pattern
     * (every {@code pattern}-th layer global), so a list that departs from it is refused, not ignored.
     */
    private static void checkLayerTypes(Path file, JsonNode types, int layers, int pattern) {
        if (types.isMissingNode() || types.isNull()) return;
        if (!types.isArray() || types.size() != layers) throw new WeightsException(file, "'layer_types' must list one entry per layer (" + layers + ")");
        for (int l = 0; l < layers; l++) {
            String want = (l + 1) % pattern != 0 ? "sliding_attention" : "full_attention";
            if (!types.get(l).asText().equals(want)) {
                throw new WeightsException(file, "'layer_types'[" + l + "] is '" + types.get(l).asText() + "' but sliding_window_pattern "
                        + pattern + " implies '" + want + "'; non-periodic layer types are not supported");
            }
        }
    }

    /** Whether layer {@code layer} attends only to the last {@link #slidingWindow} positions. */
    public boolean isSliding(int layer) {
        return switch (architecture) {
            case GEMMA2 -> layer % 2 == 0;
            case GEMMA3 -> (layer + 1) % slidingPattern != 0;
            default -> false;
        };
    }

    /** RoPE base of {@code layer}. */
    public double ropeBase(int layer) {
        return isSliding(layer) ? ropeLocalTheta : ropeTheta;
    }

    /** Linear RoPE scaling of {@code layer}: Gemma 3 applies it to global layers only. */
    public double ropeScaling(int layer) {
        return isSliding(layer) ? 1 : ropeScalingFactor;
    }

    /** Typed access to config fields with error messages naming the file and the key. */
    private record Reader(Path file, JsonNode c) {
        int positiveInt(String key) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) throw new WeightsException(file, "missing '" + key + "'");
            return checkPositive(key, n);
        }

        int positiveInt(String key, int dflt) {
            JsonNode n = c.get(key);
            return n == null || n.isNull() ? dflt : checkPositive(key, n);
        }

        private int checkPositive(String key, JsonNode n) {
            if (!n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > Integer.MAX_VALUE) {
                throw new WeightsException(file, "'" + key + "' must be a positive integer, got " + n);
            }
            return n.asInt();
        }

        /** A finite number ({@code 1e999} parses as infinity and is refused too). */
        double number(String key, double dflt) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return dflt;
            if (!n.isNumber()) throw new WeightsException(file, "'" + key + "' must be a number, got " + n);
            if (!Double.isFinite(n.asDouble())) throw new WeightsException(file, "'" + key + "' must be finite, got " + n);
            return n.asDouble();
        }

        double positiveNumber(String key, double dflt) {
            double v = number(key, dflt);
            if (v <= 0) throw new WeightsException(file, "'" + key + "' must be positive, got " + c.get(key));
            return v;
        }

        /**
         * A norm epsilon: positive in float32 and small. Beyond 0.1 it would swamp the variance of
         * unit-scale activations, so such a value is a typo, not a setting.
         */
        float normEps(String key, double dflt) {
            float eps = (float) number(key, dflt);
            if (!(eps > 0) || eps > 0.1f) throw new WeightsException(file, "'" + key + "' must be in (0, 0.1] (typically 1e-5 or 1e-6), got " + c.get(key));
            return eps;
        }

        /** A soft-cap: absent or null for none, else a positive number (a cap of 0 would zero the logits). */
        float softcap(String key) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return 0;
            double v = number(key, 0);
            if (!((float) v > 0)) throw new WeightsException(file, "'" + key + "' must be positive or null (no cap), got " + n);
            return (float) v;
        }

        /** {@code a * b}, refused when it does not fit the int index of an activation row. */
        void product(String what, int a, int b) {
            if ((long) a * b > Integer.MAX_VALUE) {
                throw new WeightsException(file, what + " = " + a + " x " + b + " overflows a 32-bit row length");
            }
        }

        /** A token id inside the vocabulary, or a non-empty list of them; {@code dflt} when absent. */
        int[] tokenIds(String key, int dflt, int vocab) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return new int[] {dflt};
            List<JsonNode> ids = new ArrayList<>();
            if (n.isArray()) n.forEach(ids::add);
            else ids.add(n);
            if (ids.isEmpty()) throw new WeightsException(file, "'" + key + "' must be a token id or a list of them, got " + n);
            int[] out = new int[ids.size()];
            for (int i = 0; i < out.length; i++) {
                JsonNode id = ids.get(i);
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                    throw new WeightsException(file, "'" + key + "' must be a token id or a list of them, got " + n);
                }
                if (id.asInt() >= vocab) throw new WeightsException(file, "'" + key + "' " + id + " is outside the vocabulary [0, " + vocab + ")");
                out[i] = id.asInt();
            }
            return out;
        }

        boolean bool(String key, boolean dflt) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return dflt;
            if (!n.isBoolean()) throw new WeightsException(file, "'" + key + "' must be true or false, got " + n);
            return n.asBoolean();
        }

        String string(String key, String dflt) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return dflt;
            if (!n.isTextual()) throw new WeightsException(file, "'" + key + "' must be a string, got " + n);
            return n.asText();
        }
    }
}
