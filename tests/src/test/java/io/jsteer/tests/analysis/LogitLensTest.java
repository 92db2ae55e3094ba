/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.analysis.LogitLens;
import io.jsteer.steering.analysis.LogitLens.Cell;
import io.jsteer.steering.analysis.LogitLens.Lens;
import io.jsteer.steering.analysis.LogitLens.TokenScore;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.kernels.MatMul;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The logit lens on the fixtures: at the last block it is the model's logits bit for bit, and at
 * every stage it is Hugging Face's recorded residual stream read out by {@link HfReadout}.
 */
class LogitLensTest {
    /** One fixture per way of reading out: LayerNorm (parallel and sequential), Gemma's 1 + w, Gemma 2's soft-cap, Gemma 3, Llama, Qwen 3. */
    static Stream<String> models() {
        return Stream.of("pythia-tiny-parallel", "pythia-tiny-sequential", "gemma-tiny", "gemma2-tiny", "gemma3-tiny", "llama3-tiny", "qwen3-tiny");
    }

    @ParameterizedTest
    @MethodSource("models")
    void lastStageIsTheModelsLogitsBitForBit(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int V = model.config().vocabSize();
        for (JsonNode input : Fixtures.json(name, "reference.json").get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            float[] logits = model.forward(model.newState(), ids, true);
            Lens lens = new LogitLens(model).run(ids, V, new int[] {3, 7});
            assertEquals(model.config().numLayers() + 1, lens.stages().size());
            List<Cell> last = lens.stages().getLast().positions();
            for (int t = 0; t < ids.length; t++) {
                Cell cell = last.get(t);
                assertEquals(V, cell.top().size());
                double total = 0;
                for (TokenScore s : cell.top()) {
                    assertEquals(Float.floatToIntBits(logits[t * V + s.token()]), Float.floatToIntBits(s.logit()), name + " position " + t + " token " + s.token());
                    total += s.probability();
                }
                assertEquals(1, total, 1e-9, "probabilities sum to 1");
                for (int i = 1; i < V; i++) assertTrue(cell.top().get(i - 1).logit() >= cell.top().get(i).logit(), "most likely first");
                for (TokenScore c : cell.chosen()) assertEquals(Float.floatToIntBits(logits[t * V + c.token()]), Float.floatToIntBits(c.logit()));
                if (t + 1 < ids.length) assertEquals(ids[t + 1], cell.next().token());
                else assertNull(cell.next());
            }
        }
    }

    /** A prompt long enough for the prompt order: the lens reads it out in that order too, bit for bit. */
    @ParameterizedTest
    @MethodSource("models")
    void lastStageIsTheModelsLogitsOnAPromptInThePromptOrder(String name) {
        Model model = Model.load(Fixtures.dir(name));
        int V = model.config().vocabSize();
        int[] ids = new java.util.Random(name.hashCode()).ints(MatMul.PROMPT_TOKENS + 5, 0, V).toArray();
        float[] logits = model.forward(model.newState(), ids, true);
        List<Cell> last = new LogitLens(model).run(ids, V, new int[] {3}).stages().getLast().positions();
        for (int t = 0; t < ids.length; t++) {
            for (TokenScore s : last.get(t).top()) {
                assertEquals(Float.floatToIntBits(logits[t * V + s.token()]), Float.floatToIntBits(s.logit()), name + " position " + t + " token " + s.token());
            }
        }
    }

    /**
     * Every stage of the lens against HF's recorded stream at that point through the readout
     * written in {@link HfReadout}; logits, probabilities and ranks are all checked. Measured:
     * logits within 8.7e-7 of their scale over every fixture, stage and position, so an error of
     * 1e-5 fails.
     */
    @ParameterizedTest
    @MethodSource("models")
    void everyStageIsHfsStreamReadOut(String name) {
        Model model = Model.load(Fixtures.dir(name));
        HfReadout hf = new HfReadout(name);
        int V = hf.vocab;
        double worst = 0;
        for (JsonNode input : Fixtures.json(name, "reference.json").get("inputs")) {
            int[] ids = Fixtures.ints(input.get("input_ids"));
            int chosen = ids[0];
            Lens lens = new LogitLens(model).run(ids, 3, new int[] {chosen});
            for (LogitLens.Stage stage : lens.stages()) {
                float[] stream = Fixtures.floats(input.get("hooks").get(stage.hook().toString()));
                for (int t = 0; t < ids.length; t++) {
                    double[] want = hf.logits(stream, t);
                    double max = Double.NEGATIVE_INFINITY, scale = 1;
                    for (double v : want) {
                        max = Math.max(max, v);
                        scale = Math.max(scale, Math.abs(v));
                    }
                    double z = 0;
                    for (double v : want) z += Math.exp(v - max);
                    Cell cell = stage.positions().get(t);
                    for (TokenScore s : cell.top()) {
                        double err = Math.abs(s.logit() - want[s.token()]) / scale;
                        worst = Math.max(worst, err);
                        assertTrue(err < 2e-6, name + " " + stage.hook() + " position " + t + ": logit error " + err + " of scale");
                        assertEquals(Math.exp(want[s.token()] - max) / z, s.probability(), 2e-6, "probability");
                    }
                    TokenScore c = cell.chosen().getFirst();
                    int above = 0;
                    for (double v : want) if (v > want[chosen] + 1e-4 * scale) above++;
                    assertTrue(c.rank() >= above + 1, "rank " + c.rank() + " of a token with " + above + " clearly above it");
                    int atLeast = 0;
                    for (double v : want) if (v >= want[chosen] - 1e-4 * scale) atLeast++;
                    assertTrue(c.rank() <= atLeast, "rank " + c.rank() + " of a token with " + atLeast + " at or near it");
                    assertTrue(cell.top().getFirst().logit() >= max - 1e-4 * scale, "top token is the maximum");
                    assertEquals(V, hf.vocab);
                }
            }
        }
        System.out.printf("%s: logit lens vs HF streams read out in double: worst %.3g of scale%n", name, worst);
    }

    @Test
    void refusesBadArguments() {
        Model model = Model.load(Fixtures.dir("pythia-tiny-parallel"));
        LogitLens lens = new LogitLens(model);
        assertThrows(IllegalArgumentException.class, () -> lens.run(new int[0], 3, new int[0]));
        assertThrows(IllegalArgumentException.class, () -> lens.run(new int[] {1}, 0, new int[0]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lens.run(new int[] {1}, 3, new int[] {100000}));
        assertTrue(e.getMessage().contains("100000"), e.getMessage());
    }
}
