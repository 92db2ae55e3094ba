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
 * @param ropeScaling        {@code rope_scaling} of global layers ({@link RopeScaling#NONE} when none; a GGUF file's {@code rope_freqs} factors)
 * @param rotaryDims         number of leading head dimensions rotated (GPT-NeoX partial rotary)
 * @param attentionBias      q, k, v and output projections have biases (HF {@code attention_bias}; GPT-NeoX always)
 * @param mlpBias            the gated MLP's projections have biases (Llama {@code mlp_bias})
 * @param slidingWindow      window size, 0 when no layer slides
 * @param slidingPattern     Gemma 3: every {@code slidingPattern}-th layer is global; Gemma 2: 2
 * @param attnSoftcap        attention logit soft-cap, 0 when none
 * @param finalSoftcap       final logit soft-cap, 0 when none
 * @param attentionScale     multiplier of q.k (1/sqrt(head_dim) or query_pre_attn_scalar^-1/2)
 * @param bosTokenId         beginning-of-sequence id, -1 when the config names none (Qwen)
 * @param eosTokenIds        every end-of-sequence id ({@code eos_token_id} may list several, as Gemma 3's does); empty when none
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
        RopeScaling ropeScaling,
        int rotaryDims,
        boolean parallelResidual,
        boolean attentionBias,
        boolean mlpBias,
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
            throw new WeightsException(file, "cannot parse config: " + WeightsException.describe(e), e);
        }
        if (root == null || !root.isObject()) throw new WeightsException(file, "config is not a JSON object");
        return parse(file, root);
    }

    /** Builds a config from parsed JSON; {@code file} is only used in error messages. */
    public static ModelConfig parse(Path file, JsonNode c) {
        JsonNode archs = c.path("architectures");
        if (!archs.isArray() || archs.isEmpty()) {
            throw new WeightsException(file, "missing 'architectures' (a list naming one of: " + Architecture.supportedNames() + ")");
        }
        String archName = archs.get(0).asText();
        Architecture arch = Architecture.fromHfName(archName);
        if (arch == null) {
            throw new WeightsException(file, "unknown architecture '" + archName + "' in 'architectures' (supported: " + Architecture.supportedNames() + ")");
        }
        Reader r = new Reader(file, c);
        int hidden = r.positiveInt("hidden_size");
        int heads = r.positiveInt("num_attention_heads");
        int layers = r.positiveInt("num_hidden_layers");
        int vocab = r.positiveInt("vocab_size");
        int inter = r.positiveInt("intermediate_size");
        boolean neox = arch == Architecture.GPT_NEOX;
        Defaults dflt = Defaults.of(arch, heads, hidden);
        int kvHeads = neox ? heads : r.positiveInt("num_key_value_heads", dflt.kvHeads);
        int headDim = neox ? hidden / heads : r.positiveInt("head_dim", dflt.headDim);
        if (neox && hidden % heads != 0) throw new WeightsException(file, "hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        if (heads % kvHeads != 0) throw new WeightsException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        r.product("num_attention_heads x head_dim", heads, headDim);
        r.product("3 x hidden_size", 3, hidden);

        String actName = arch.isGemma() ? geminiActivation(r) : r.string("hidden_act", neox ? "gelu" : "silu");
        Activation act = Activation.fromHfName(actName);
        if (act == null) {
            throw new WeightsException(file, "unsupported activation '" + actName + "' in '" + (arch.isGemma() ? "hidden_activation" : "hidden_act")
                    + "' (supported: gelu, gelu_pytorch_tanh, gelu_new, gelu_fast, silu, swish)");
        }

        double theta = neox ? r.positiveNumber("rotary_emb_base", r.positiveNumber("rope_theta", 10000)) : r.positiveNumber("rope_theta", 10000);
        double localTheta = arch == Architecture.GEMMA3 ? r.positiveNumber("rope_local_base_freq", 10000) : theta;
        RopeScaling scaling = ropeScaling(file, c.path("rope_scaling"), arch);
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
        } else if (arch == Architecture.MISTRAL) {
            // every layer slides; null (Mistral-7B-v0.2 and later) means full attention, absent means 4096 (MistralConfig)
            window = c.has("sliding_window") && c.get("sliding_window").isNull() ? 0 : r.positiveInt("sliding_window", 4096);
        } else if ((arch == Architecture.QWEN2 || arch == Architecture.QWEN3) && r.bool("use_sliding_window", false)) {
            throw new WeightsException(file, "'use_sliding_window' true is not supported for " + arch.hfName()
                    + " (supported: false, as in every released checkpoint)");
        }
        float scale = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3
                ? (float) (1 / Math.sqrt(r.positiveNumber("query_pre_attn_scalar", headDim)))
                : (float) (1 / Math.sqrt(headDim));
        boolean gemma23 = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3;
        r.tokenIds("pad_token_id", new int[] {0}, vocab);
        // Mistral's and Qwen 2's attention classes hard-code their biases and ignore attention_bias
        boolean attentionBias = neox ? r.bool("attention_bias", true)
                : arch != Architecture.MISTRAL && arch != Architecture.QWEN2 && r.bool("attention_bias", false);
        int[] eos = r.tokenIds("eos_token_id", dflt.eos, vocab);
        int[] bos = r.tokenIds("bos_token_id", dflt.bos, vocab);
        return new ModelConfig(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim,
                r.normEps(neox ? "layer_norm_eps" : "rms_norm_eps", neox ? 1e-5 : 1e-6),
                act, theta, localTheta, scaling, rotary,
                neox && r.bool("use_parallel_residual", true),
                attentionBias,
                arch == Architecture.LLAMA && r.bool("mlp_bias", false),
                r.bool("tie_word_embeddings", dflt.tied),
                window, pattern,
                gemma23 ? r.softcap("attn_logit_softcapping") : 0,
                gemma23 ? r.softcap("final_logit_softcapping") : 0,
                scale,
                r.positiveInt("max_position_embeddings", dflt.maxPositions),
                bos.length == 0 ? -1 : bos[0],
                eos);
    }

    /**
     * What each family's Hugging Face config class assumes for a field the file leaves out.
     *
     * @param bos, eos  empty when the class has no default (Qwen's configs name none)
     */
    private record Defaults(int kvHeads, int headDim, boolean tied, int maxPositions, int[] bos, int[] eos) {
        static Defaults of(Architecture arch, int heads, int hidden) {
            int[] none = {};
            return switch (arch) {
                case GPT_NEOX -> new Defaults(heads, hidden / heads, false, 2048, new int[] {0}, new int[] {0});
                case GEMMA, GEMMA2, GEMMA3 -> new Defaults(heads, hidden / heads, true, 8192, new int[] {2}, new int[] {1});
                case LLAMA -> new Defaults(heads, hidden / heads, false, 2048, new int[] {1}, new int[] {2});
                case MISTRAL -> new Defaults(8, hidden / heads, false, 4096 * 32, new int[] {1}, new int[] {2});
                case QWEN2 -> new Defaults(32, hidden / heads, false, 32768, none, none);
                // Qwen3Config's head_dim defaults to 128 whatever the width
                case QWEN3 -> new Defaults(32, 128, false, 32768, none, none);
            };
        }
    }

    /**
     * {@code rope_scaling}: absent, null or {@code "default"} is none; {@code "linear"} needs
     * {@code factor}; {@code "llama3"} needs {@code factor}, {@code low_freq_factor},
     * {@code high_freq_factor} and {@code original_max_position_embeddings}. Gemma 3 scales its
     * global layers only (see {@link #ropeScaling(int)}); Gemma 1/2 ignore the entry in
     * transformers 4.47 (their rotary classes take only the base), as here.
     */
    private static RopeScaling ropeScaling(Path file, JsonNode rs, Architecture arch) {
        if (rs.isMissingNode() || rs.isNull()) return RopeScaling.NONE;
        if (!rs.isObject()) throw new WeightsException(file, "'rope_scaling' must be an object or null, got " + rs);
        if (arch == Architecture.GEMMA || arch == Architecture.GEMMA2) return RopeScaling.NONE;
        JsonNode typeNode = rs.hasNonNull("rope_type") ? rs.get("rope_type") : rs.get("type");
        String supported = arch == Architecture.GEMMA3 ? "default, linear" : "default, linear, llama3";
        if (typeNode == null || typeNode.isNull()) throw new WeightsException(file, "missing 'rope_scaling.rope_type' (supported: " + supported + ")");
        if (!typeNode.isTextual()) throw new WeightsException(file, "'rope_scaling.rope_type' must be a string, got " + typeNode);
        Reader r = new Reader(file, rs, "rope_scaling.");
        return switch (typeNode.asText()) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> RopeScaling.linear(r.positiveNumber("factor"));
            case "llama3" -> {
                if (arch == Architecture.GEMMA3) yield unsupportedRope(file, typeNode.asText(), supported);
                double factor = r.positiveNumber("factor"), low = r.positiveNumber("low_freq_factor"), high = r.positiveNumber("high_freq_factor");
                if (high <= low) throw new WeightsException(file, "'rope_scaling.high_freq_factor' " + high + " must exceed 'rope_scaling.low_freq_factor' " + low);
                yield new RopeScaling(RopeScaling.Type.LLAMA3, factor, low, high, r.positiveInt("original_max_position_embeddings"));
            }
            default -> unsupportedRope(file, typeNode.asText(), supported);
        };
    }

    private static RopeScaling unsupportedRope(Path file, String type, String supported) {
        throw new WeightsException(file, "unsupported 'rope_scaling.rope_type' '" + type + "' (supported: " + supported + ")");
    }

    /**
     * Gemma's MLP activation. transformers v4.47 (the reference) reads {@code hidden_activation}
     * and falls back to the tanh approximation when it is null, ignoring {@code hidden_act}.
     */
    private static String geminiActivation(Reader r) {
        return r.string("hidden_activation", "gelu_pytorch_tanh");
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
            case MISTRAL -> slidingWindow > 0;
            default -> false;
        };
    }

    /** RoPE base of {@code layer}. */
    public double ropeBase(int layer) {
        return isSliding(layer) ? ropeLocalTheta : ropeTheta;
    }

    /** RoPE scaling of {@code layer}: Gemma 3 applies it to global layers only. */
    public RopeScaling ropeScaling(int layer) {
        return architecture == Architecture.GEMMA3 && isSliding(layer) ? RopeScaling.NONE : ropeScaling;
    }

    /** Whether the q, k and v projections have biases: with {@link #attentionBias}, and always in Qwen 2. */
    public boolean qkvBias() {
        return attentionBias || architecture == Architecture.QWEN2;
    }

    /** The factor token embeddings are multiplied by: Gemma's sqrt(hidden), rounded to float32 as HF does; else 1. */
    public float embeddingScale() {
        return architecture.isGemma() ? (float) Math.sqrt(hiddenSize) : 1f;
    }

    /** Typed access to config fields with error messages naming the file and the key. */
    private record Reader(Path file, JsonNode c, String prefix) {
        Reader(Path file, JsonNode c) {
            this(file, c, "");
        }

        int positiveInt(String key) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) throw new WeightsException(file, "missing '" + prefix + key + "'");
            return checkPositive(key, n);
        }

        double positiveNumber(String key) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) throw new WeightsException(file, "missing '" + prefix + key + "'");
            if (!n.isNumber() || !(n.asDouble() > 0) || Double.isInfinite(n.asDouble())) {
                throw new WeightsException(file, "'" + prefix + key + "' must be a positive number, got " + n);
            }
            return n.asDouble();
        }

        int positiveInt(String key, int dflt) {
            JsonNode n = c.get(key);
            return n == null || n.isNull() ? dflt : checkPositive(key, n);
        }

        private int checkPositive(String key, JsonNode n) {
            if (!n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > Integer.MAX_VALUE) {
                throw new WeightsException(file, "'" + prefix + key + "' must be a positive integer, got " + n);
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

        /** A token id inside the vocabulary, or a non-empty list of them; {@code dflt} (maybe empty) when absent. */
        int[] tokenIds(String key, int[] dflt, int vocab) {
            JsonNode n = c.get(key);
            if (n == null || n.isNull()) return dflt.clone();
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
