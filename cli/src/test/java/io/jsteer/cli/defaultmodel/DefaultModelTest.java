/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model does what its Javadoc says, checked from the outside: against bigram counts
 * taken from the corpus here, by reading its residual stream, and by nudging the planted direction.
 */
class DefaultModelTest {
    static Path dir;
    static Model model;
    static Tokenizer tokenizer;
    static final Design D = Design.DEFAULT;

    @BeforeAll
    static void build() {
        dir = DefaultModel.ensure();
        model = Model.load(dir);
        tokenizer = Tokenizers.load(dir.resolve("tokenizer.json"));
    }

    @Test
    void buildsAreDeterministicReusedAndReplacedWhenOutdated(@TempDir Path tmp) throws IOException {
        Path a = DefaultModel.ensure(tmp.resolve("a")), b = DefaultModel.ensure(tmp.resolve("b"));
        assertEquals(-1, Files.mismatch(a.resolve("model.safetensors"), b.resolve("model.safetensors")), "same seed, same weights");
        assertEquals(-1, Files.mismatch(a.resolve("model.safetensors"), dir.resolve("model.safetensors")));
        assertEquals(List.of("config.json", "default-model.json", "model.safetensors", "planted_direction.safetensors", "tokenizer.json"),
                Files.list(a).map(p -> p.getFileName().toString()).sorted().toList());
        assertEquals(List.of("a", "b"), Files.list(tmp).map(p -> p.getFileName().toString()).sorted().toList(), "no temporary folders left");

        FileTime built = Files.getLastModifiedTime(a.resolve("model.safetensors"));
        assertTrue(DefaultModel.isCurrent(a));
        DefaultModel.ensure(a);
        assertEquals(built, Files.getLastModifiedTime(a.resolve("model.safetensors")), "an up-to-date build is reused");

        Path info = a.resolve("default-model.json");
        Files.writeString(info, Files.readString(info).replaceFirst("\"fingerprint\" : \"[0-9a-f]+\"", "\"fingerprint\" : \"old\""));
        assertFalse(DefaultModel.isCurrent(a));
        DefaultModel.ensure(a);
        assertTrue(DefaultModel.isCurrent(a));
        assertEquals(-1, Files.mismatch(a.resolve("model.safetensors"), b.resolve("model.safetensors")));
    }

    @Test
    void previousTokenHeadCopiesThePreviousTokensGapTwoFeatures() {
        ResidualBasis basis = new ResidualBasis(D.hidden(), D.seed());
        int[] ids = tokenizer.encode("The bride and the groom walked to the old stone bridge by the river in the morning");
        int d = D.hidden();
        float[][] seen = new float[2][];
        State s = model.newState();
        s.hooks().add(new HookName(0, HookPoint.RESID_PRE), (ctx, x) -> seen[0] = x.clone());
        s.hooks().add(new HookName(0, HookPoint.RESID_POST), (ctx, x) -> seen[1] = x.clone());
        model.forward(s, ids, false);
        for (int t = 1; t < ids.length; t++) {
            double err = 0, size = 0;
            for (int k = 0; k < D.skipRank(); k++) {
                double copied = dot(basis.vector(D.prevSlot(k)), seen[1], t * d);
                double source = dot(basis.vector(D.sourceSlot(k)), seen[0], (t - 1) * d);
                err = Math.max(err, Math.abs(copied - source));
                size = Math.max(size, Math.abs(source));
            }
            assertTrue(err <= 0.02 * size, "position " + t + ": copy error " + err + " of " + size);
        }
    }

    @Test
    void predictionsFollowTheCorpusBigrams() {
        List<int[]> paragraphs = Corpus.paragraphs(tokenizer);
        Map<Integer, Set<Integer>> followers = new HashMap<>();
        Map<Integer, Integer> unigram = new HashMap<>();
        int total = 0;
        for (int[] p : paragraphs) {
            for (int t = 0; t < p.length; t++) {
                unigram.merge(p[t], 1, Integer::sum);
                total++;
                if (t + 1 < p.length) followers.computeIfAbsent(p[t], k -> new HashSet<>()).add(p[t + 1]);
            }
        }
        int V = model.config().vocabSize(), predictions = 0, seenFollower = 0;
        double nll = 0, unigramNll = 0;
        for (int[] p : paragraphs) {
            float[] logits = model.forward(model.newState(), p, true);
            for (int t = 0; t + 1 < p.length; t++) {
                int best = 0;
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int j = 0; j < V; j++) {
                    float l = logits[t * V + j];
                    if (l > max) {
                        max = l;
                        best = j;
                    }
                }
                for (int j = 0; j < V; j++) z += Math.exp(logits[t * V + j] - max);
                nll += -(logits[t * V + p[t + 1]] - max - Math.log(z));
                unigramNll += -Math.log(unigram.get(p[t + 1]) / (double) total);
                predictions++;
                if (followers.getOrDefault(p[t], Set.of()).contains(best)) seenFollower++;
            }
        }
        double share = seenFollower / (double) predictions;
        System.out.printf("default model on its corpus: %.1f%% argmax seen after the token, %.3f nats/token vs unigram %.3f%n",
                100 * share, nll / predictions, unigramNll / predictions);
        assertTrue(share > 0.85, "argmax is a corpus follower of the current token in only " + share + " of positions");
        assertTrue(nll / predictions < 0.6 * unigramNll / predictions, "model " + nll / predictions + " vs unigram " + unigramNll / predictions);
    }

    @Test
    void pushingAlongThePlantedDirectionMovesTopicLogitsByTau() {
        float[] u = DefaultModel.plantedDirection(dir).direction();
        int[] ids = tokenizer.encode("The old man walked to the");
        double eps = 0.01;
        float[] plus = steered(ids, u, eps, D.layers() - 1), minus = steered(ids, u, -eps, D.layers() - 1);
        int neutral = tokenizer.encode(" house")[0];
        for (String w : List.of(" wedding", " bride", " love", " war", " soldiers", " enemy")) {
            int id = tokenizer.encode(w)[0];
            int sign = Topics.sign(tokenizer, id);
            assertTrue(sign != 0, w);
            double slope = ((plus[id] - minus[id]) - (plus[neutral] - minus[neutral])) / (2 * eps);
            assertEquals(sign * D.topicLogit(), slope, 0.05 * D.topicLogit(), w + ": logit change per unit along u relative to ' house'");
        }
    }

    private static float[] steered(int[] ids, float[] u, double alpha, int layer) {
        State s = model.newState();
        s.hooks().add(new HookName(layer, HookPoint.RESID_POST), (ctx, x) -> {
            for (int t = 0; t < ctx.tokens(); t++) for (int i = 0; i < u.length; i++) x[t * u.length + i] += (float) (alpha * u[i]);
        });
        return model.forward(s, ids, false);
    }

    @Test
    void theLayersAfterTheTopicHeadCarryOneAndTheSameStreamAsTheLayerNoteSays() {
        int[] ids = tokenizer.encode("The bride and the soldiers walked to the old stone bridge");
        float[][] post = new float[D.layers()][];
        State s = model.newState();
        for (int l = 0; l < D.layers(); l++) {
            int layer = l;
            s.hooks().add(new HookName(l, HookPoint.RESID_POST), (ctx, x) -> post[layer] = x.clone());
        }
        model.forward(s, ids, false);
        assertFalse(java.util.Arrays.equals(post[D.prevLayer()], post[D.topicLayer()]), "the topic head changes the stream");
        for (int l = D.topicLayer() + 1; l < D.layers(); l++) {
            assertTrue(java.util.Arrays.equals(post[D.topicLayer()], post[l]), "block " + l + " is the identity");
        }
        assertEquals("block 0 holds a previous-token head and block 1 the topic head that writes the planted direction u; blocks 2-3 and the MLPs"
                + " are zero (the identity), so resid_post of layers 1-3 is one and the same stream and gives the same results there", DefaultModel.layerNote());
    }

    @Test
    void topicWordsAreRecognisedInAnySpelling() {
        assertEquals(1, Topics.sign(tokenizer, tokenizer.encode(" wedding")[0]));
        assertEquals(1, Topics.sign(tokenizer, tokenizer.encode("Love")[0]));
        assertEquals(-1, Topics.sign(tokenizer, tokenizer.encode(" battle")[0]));
        assertEquals(0, Topics.sign(tokenizer, tokenizer.encode(" the")[0]));
    }

    private static double dot(double[] a, float[] x, int off) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * x[off + i];
        return s;
    }
}
