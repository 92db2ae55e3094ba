/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

/**
 * The sizes and strengths of the default model; see {@link DefaultModel} for what each part does.
 *
 * @param hidden        residual width d
 * @param heads         attention heads per layer (head width d / heads)
 * @param layers        transformer blocks; block {@link #prevLayer} and {@link #topicLayer} hold the
 *                      two working heads, the others are the identity
 * @param vocabSize     rows of the embedding (Pythia pads its 50,277 tokens to 50,304)
 * @param context       max_position_embeddings
 * @param rotaryPct     share of each head's width that RoPE rotates
 * @param ropeBase      RoPE base
 * @param bigramRank    rank of the next-token (gap 1) factorisation
 * @param skipRank      rank of the gap-2 factorisation carried by the previous-token head
 * @param prior         Dirichlet smoothing weight towards the unigram distribution
 * @param skipWeight    weight of the gap-2 log-probabilities in the logits (a product of experts)
 * @param topicEmbed    topic feature of the embedding of a topic word (+ love, - war)
 * @param topicGain     u-component the topic head writes per unit of the context's mean topic feature
 * @param topicLogit    logit change of each topic word per unit of u-component (the planted readout)
 * @param unknownBias   logit of tokens the corpus never uses, relative to the rarest corpus token
 * @param seed          seed of the random residual basis
 */
record Design(int hidden, int heads, int layers, int vocabSize, int context, double rotaryPct, double ropeBase,
              int bigramRank, int skipRank, double prior, double skipWeight,
              double topicEmbed, double topicGain, double topicLogit, double unknownBias, long seed,
              int prevLayer, int topicLayer) {

    /** The design jsteer ships. */
    static final Design DEFAULT = new Design(192, 4, 4, 50304, 512, 0.5, 10000,
            121, 32, 1.0, 0.7,
            1.0, 1.0, 2.0, -20, 20250101L,
            0, 1);

    Design {
        if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " is not divisible by heads " + heads);
        if (bigramRank + 2 * skipRank + FIXED_SLOTS > hidden) {
            throw new IllegalArgumentException("ranks " + bigramRank + " + 2 x " + skipRank + " + " + FIXED_SLOTS + " fixed slots exceed hidden " + hidden);
        }
        if (skipRank + 1 > hidden / heads) throw new IllegalArgumentException("the previous-token head copies " + (skipRank + 1) + " values but a head is " + (hidden / heads) + " wide");
        if (prevLayer >= topicLayer || topicLayer >= layers) throw new IllegalArgumentException("need prevLayer < topicLayer < layers");
    }

    int headDim() {
        return hidden / heads;
    }

    int rotaryDims() {
        return (int) (headDim() * rotaryPct);
    }

    // Which basis vector of ResidualBasis carries what. Slot 0 is the mean direction, which LayerNorm removes.
    /** Slots before the factor slots. */
    static final int FIXED_SLOTS = 7;
    /** Final LayerNorm bias points here; the unembedding reads it as a per-token bias. */
    static final int BIAS_SLOT = 1;
    /** Pads every embedding to the same norm, so LayerNorm scales all tokens alike. */
    static final int CARRIER_SLOT = 2;
    /** The planted topic direction u, written by the topic head and read by the unembedding. */
    static final int TOPIC_SLOT = 3;
    /** The embedding's topic feature (+1 love word, -1 war word), read by the topic head. */
    static final int TOPIC_IN_SLOT = 6;
    /** Pads the gap-2 source features to a constant norm (copied along with them). */
    static final int SOURCE_CARRIER_SLOT = 4;
    /** The copy of {@link #SOURCE_CARRIER_SLOT} written by the previous-token head. */
    static final int PREV_CARRIER_SLOT = 5;

    /** Factor {@code k} of the current token's next-token (gap 1) features. */
    int bigramSlot(int k) {
        return FIXED_SLOTS + k;
    }

    /** Factor {@code k} of the current token's gap-2 source features, read by the previous-token head. */
    int sourceSlot(int k) {
        return FIXED_SLOTS + bigramRank + k;
    }

    /** Factor {@code k} of the previous token's gap-2 features, written by the previous-token head. */
    int prevSlot(int k) {
        return FIXED_SLOTS + bigramRank + skipRank + k;
    }
}
