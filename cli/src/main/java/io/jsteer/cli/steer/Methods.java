/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.steer;

import io.jsteer.steering.PositionRule;
import io.jsteer.steering.SteeringMethod;
import io.jsteer.steering.actadd.ActAdd;
import io.jsteer.steering.ace.AffineConceptEditing;
import io.jsteer.steering.ace.DirectionalAblation;
import io.jsteer.steering.caa.Caa;
import io.jsteer.steering.cast.Cast;
import io.jsteer.steering.iti.Iti;
import io.jsteer.steering.pca.Pca;
import io.jsteer.steering.probe.Probe;
import io.jsteer.steering.sara.Sara;
import io.jsteer.steering.sas.Sas;
import io.jsteer.steering.sas.SparseAutoencoder;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.steering.sparse.SparseMeanDifference;
import io.jsteer.steering.sparse.WhitenedSparseMeanDifference;
import io.jsteer.weights.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The steering methods the command line knows, by name, and how a {@link MethodSpec} configures
 * each. Common keys: {@code layer} (default: the middle block), {@code hook} (default
 * {@code resid_post}), {@code coeff} (default 1), {@code readout} (where prompts are read, default
 * the last token) and {@code positions} (where to steer, default all); each method lists its keys.
 */
public final class Methods {
    private Methods() {}

    @FunctionalInterface
    private interface Factory {
        SteeringMethod create(MethodParams p);
    }

    private record Entry(String name, String summary, List<String> keys, Factory factory) {}

    private static final Map<String, Entry> METHODS = new LinkedHashMap<>();
    private static final Map<String, String> ALIASES = Map.of("sparse", "sparse-mean-diff", "whitened", "whitened-sparse-mean-diff",
            "affine-concept-editing", "ace", "directional-ablation", "ablation");

    static {
        register("caa", "Contrastive Activation Addition: mean difference of paired prompts (Rimsky et al. 2023); preset=original reads token -2"
                        + " and steers from the instruction's end (instruction_end, a prompt token index, default -1) onward, as the paper",
                List.of("layer", "hook", "coeff", "readout", "positions", "preset", "instruction_end"),
                p -> {
                    if (!p.has("preset")) {
                        if (p.has("instruction_end")) throw new IllegalArgumentException("instruction_end goes with preset=original");
                        return new Caa(p.hook(), p.coefficient(), p.readout(), p.positions());
                    }
                    p.requirePreset("original", "readout", "positions");
                    return Caa.original(p.hook(), p.coefficient(), p.has("instruction_end") ? p.integer("instruction_end") : -1);
                });
        register("actadd", "Activation Addition from one prompt pair (Turner et al. 2023); variant=last|mean|positional; preset=paper: positional at"
                        + " hook_resid_pre, the paper's setting",
                List.of("layer", "hook", "coeff", "variant", "positions", "preset"),
                p -> {
                    if (!p.has("preset")) {
                        return new ActAdd(p.hook(), p.coefficient(), p.choice("variant", ActAdd.Variant.class, ActAdd.Variant.LAST_TOKEN), p.positions());
                    }
                    p.requirePreset("paper", "hook", "variant", "positions");
                    return ActAdd.paper(p.hook().layer(), p.coefficient());
                });
        register("sparse-mean-diff", "mean difference kept on the k coordinates of highest effect-to-noise ratio",
                List.of("layer", "hook", "coeff", "k", "readout", "positions"),
                p -> new SparseMeanDifference(p.hook(), p.coefficient(), p.k(), p.readout(), p.positions()));
        register("whitened-sparse-mean-diff", "covariance-whitened mean difference (LDA direction) kept on k coordinates; shrinkage default 0.1",
                List.of("layer", "hook", "coeff", "k", "shrinkage", "readout", "positions"),
                p -> new WhitenedSparseMeanDifference(p.hook(), p.coefficient(), p.k(), p.number("shrinkage", 0.1), p.readout(), p.positions()));
        register("pca", "first principal component with repeng's sign vote (Zou et al. 2023; repeng, llama.cpp cvector-generator); variant=diff|center;"
                        + " unit norm, so coeff is the added norm",
                List.of("layer", "hook", "coeff", "variant", "readout", "positions"),
                p -> new Pca(p.hook(), p.coefficient(), p.choice("variant", Pca.Variant.class, Pca.Variant.DIFF), p.readout(), p.positions()));
        register("probe", "L2 logistic-regression probe direction, unit norm; l2 (default 1 = scikit-learn's C=1), holdout fraction (default 0.2)"
                        + " and seed (default 0) for the held-out accuracy it reports",
                List.of("layer", "hook", "coeff", "l2", "holdout", "seed", "readout", "positions"),
                p -> new Probe(p.hook(), p.coefficient(), p.number("l2", 1), p.number("holdout", 0.2), p.has("seed") ? p.integer("seed") : 0,
                        p.readout(), p.positions()));
        register("cast", "conditional activation steering (Lee et al. 2024, IBM activation-steering): behavior=VECTOR file added only to sequences"
                        + " whose prompt meets a condition learnt at layer/hook from the contrast prompts (positive = apply); aggregate=mean|last;"
                        + " threshold and comparator=larger|smaller fix the condition instead of searching",
                List.of("layer", "hook", "behavior", "coeff", "aggregate", "threshold", "comparator", "positions"),
                p -> {
                    if (p.has("threshold") != p.has("comparator")) throw new IllegalArgumentException("give threshold and comparator together, or neither to learn them");
                    Cast.Condition given = p.has("threshold")
                            ? new Cast.Condition(p.number("threshold", 0), p.choice("comparator", Cast.Comparator.class, Cast.Comparator.LARGER), Double.NaN)
                            : null;
                    return new Cast(p.hook(), p.vector("behavior"), p.coefficient(), p.choice("aggregate", Cast.Aggregate.class, Cast.Aggregate.MEAN),
                            p.positions(), given);
                });
        register("sara", "per-neuron attract/repel rescaling from SVD components (Tlaie 2024); mode=history (default: the factor from every row"
                        + " seen, new rows multiplied), recompute (the whole sequence re-run and re-steered for each token, the reference hook without"
                        + " the KV cache) or call (the factor from each call's rows, the reference hook with the cache)",
                List.of("layer", "hook", "coeff", "positions", "mode"),
                p -> new Sara(p.hook(), p.coefficient(), p.positions(), p.choice("mode", Sara.Mode.class, Sara.Mode.HISTORY)));
        register("ace", "affine concept editing: set the projection on the concept direction to coeff (Marshall et al. 2024); alpha_unit=gap"
                        + " takes coeff in the paper's units, multiples of |mu+ - mu-| (default raw)",
                List.of("layer", "hook", "coeff", "readout", "positions", "alpha_unit"),
                p -> new AffineConceptEditing(p.hook(), p.coefficient(), p.readout(), p.positions(),
                        p.choice("alpha_unit", AffineConceptEditing.AlphaUnit.class, AffineConceptEditing.AlphaUnit.RAW)));
        register("sas", "Sparse Activation Steering in a sparse autoencoder's feature space (Bayat et al. 2025); sae=SAELens dir or Gemma Scope .npz"
                        + " (then layer= and hook= name its hook point), tau, k (0 = all features), remove_shared, clamp",
                List.of("sae", "layer", "hook", "coeff", "tau", "k", "remove_shared", "clamp", "readout", "positions"),
                p -> {
                    SparseAutoencoder sae = p.sae();
                    Sas.Options o = new Sas.Options(p.number("tau", 0), p.bool("remove_shared", true), p.has("k") ? p.k() : 0, p.bool("clamp", true));
                    HookName hook = p.has("layer") || p.has("hook") || sae.hook() == null ? p.hook() : sae.hook();
                    return new Sas(sae, hook, p.coefficient(), o, p.readout(), p.positions());
                });
        register("ablation", "directional ablation of the concept direction (Arditi et al. 2024); scope=at-hook|every-layer",
                List.of("layer", "hook", "scope", "readout", "positions"),
                p -> new DirectionalAblation(p.hook(), p.choice("scope", DirectionalAblation.Scope.class, DirectionalAblation.Scope.EVERY_LAYER),
                        p.readout(), p.positions()));
    }

    static {
        register("iti", "Inference-Time Intervention (Li et al. 2023): per-head probes on attn.hook_z pick the k heads (default 48) of best held-out"
                        + " accuracy (val= fraction, default 0.2), each shifted by coeff (alpha, default 15) x its std along the mass-mean direction,"
                        + " at the newest token of each call; layer= limits the heads to one block",
                List.of("layer", "coeff", "k", "val", "readout", "positions"),
                p -> new Iti(p.has("k") ? p.k() : Math.min(48, p.config().numLayers() * p.config().numHeads()), p.number("coeff", 15),
                        p.number("val", 0.2), p.has("layer") ? p.hook().layer() : -1, p.readout(),
                        p.has("positions") ? p.positions() : PositionRule.newest()));
    }

    private static void register(String name, String summary, List<String> keys, Factory factory) {
        METHODS.put(name, new Entry(name, summary, keys, factory));
    }

    /** Configures the method {@code spec} names for a model with {@code config}. */
    public static SteeringMethod create(MethodSpec spec, ModelConfig config) {
        Entry e = entry(spec.name());
        for (String key : spec.params().keySet()) {
            if (!e.keys().contains(key)) {
                throw new IllegalArgumentException("method " + e.name() + " has no parameter '" + key + "' (it takes " + String.join(", ", e.keys()) + ")");
            }
        }
        try {
            return e.factory().create(new MethodParams(spec.params(), config));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("method " + spec + ": " + ex.getMessage(), ex);
        }
    }

    /** Whether a method of this name (or alias) exists. */
    public static boolean exists(String name) {
        return METHODS.containsKey(ALIASES.getOrDefault(name, name));
    }

    /** The canonical name of a method name or alias. */
    public static String canonical(String name) {
        return entry(name).name();
    }

    /** One line per method: name, parameters and what it is; for help texts. */
    public static String describe() {
        return METHODS.values().stream().map(e -> "  " + e.name() + " (" + String.join(", ", e.keys()) + "): " + e.summary())
                .collect(Collectors.joining("\n"));
    }

    private static Entry entry(String name) {
        Entry e = METHODS.get(ALIASES.getOrDefault(name, name));
        if (e == null) throw new IllegalArgumentException("unknown steering method '" + name + "' (known: " + String.join(", ", METHODS.keySet()) + ")");
        return e;
    }
}
