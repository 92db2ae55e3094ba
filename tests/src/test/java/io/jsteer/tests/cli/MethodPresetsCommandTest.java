/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.tests.Fixtures;
import io.jsteer.tests.HfConcept;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paper-faithful method presets through the command line, checked against Hugging Face's
 * values in pythia-tiny-parallel's {@code steering.json}: {@code caa:preset=original} (token -2
 * readout, steering from the instruction's end), {@code actadd:preset=paper} (the positional
 * injection at {@code hook_resid_pre}) and {@code ace:alpha_unit=gap}, and their spec errors; {@code sara:mode=...} against the SARA
 * reference hook's generations ({@code sara.json}).
 */
class MethodPresetsCommandTest {
    static final double TOLERANCE = 1e-4;
    /** An arbitrary token appended to every CAA prompt: token -2 of the longer prompt is the last token of the original one. */
    static final int APPENDED = 7;
    static Path model, caaPairs, caaPairsExtended, actaddPair;
    static JsonNode ref;
    static String evalIds;

    @BeforeAll
    static void contrastFiles(@TempDir Path tmp) {
        model = Fixtures.dir("pythia-tiny-parallel");
        ref = Fixtures.json(model.resolve("steering.json"));
        evalIds = Cli.ids(ref.get("eval_input_ids"));
        JsonNode caa = ref.get("caa");
        StringBuilder pairs = new StringBuilder(), extended = new StringBuilder();
        for (int i = 0; i < caa.get("positive_ids").size(); i++) {
            int[] p = Fixtures.ints(caa.get("positive_ids").get(i)), n = Fixtures.ints(caa.get("negative_ids").get(i));
            pairs.append(pair(p, n));
            extended.append(pair(append(p), append(n)));
        }
        caaPairs = Cli.write(tmp.resolve("caa.jsonl"), pairs.toString());
        caaPairsExtended = Cli.write(tmp.resolve("caa-extended.jsonl"), extended.toString());
        JsonNode a = ref.get("actadd");
        actaddPair = Cli.write(tmp.resolve("actadd.jsonl"), pair(Fixtures.ints(a.get("prompt_plus_ids")), Fixtures.ints(a.get("prompt_minus_ids"))));
    }

    static String pair(int[] positive, int[] negative) {
        return "{\"positive\": " + Arrays.toString(positive) + ", \"negative\": " + Arrays.toString(negative) + "}\n";
    }

    static int[] append(int[] ids) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = APPENDED;
        return out;
    }

    /** The logits (all positions) of {@code evalIds} with {@code spec} fitted on {@code contrast}. */
    static JsonNode logits(Path tmp, String name, String spec, Path contrast) {
        Path out = tmp.resolve(name + ".json");
        Cli.run("logits", "--model", model, "--ids", evalIds, "--method", spec, "--contrast", contrast, "-o", out).ok();
        return Fixtures.json(out);
    }

    static float[] row(float[] rows, int r, int width) {
        return Arrays.copyOfRange(rows, r * width, (r + 1) * width);
    }

    @Test
    void caaOriginalReadsTokenMinusTwo(@TempDir Path tmp) {
        Path file = tmp.resolve("caa.safetensors");
        Cli.run("vector", "--model", model, "--method", "caa:preset=original,layer=1", "--contrast", caaPairsExtended, "-o", file).ok();
        SteeringVector v = VectorFiles.load(file);
        // token -2 of each prompt with one token appended is HF's last-token activation of the prompt
        double err = Cli.relativeError(v.direction(), Fixtures.floats(ref.get("caa").get("vector")));
        assertTrue(err <= TOLERANCE, "CAA token -2 vector vs HF's last-token vector: " + err);
        assertTrue(v.parameters().get("readout").contains("-2"), v.parameters().toString());
        // the default readout (the last token) reads the appended token instead
        Path last = tmp.resolve("last.safetensors");
        Cli.run("vector", "--model", model, "--method", "caa:layer=1", "--contrast", caaPairsExtended, "-o", last).ok();
        assertTrue(Cli.relativeError(VectorFiles.load(last).direction(), Fixtures.floats(ref.get("caa").get("vector"))) > 0.01);
    }

    @Test
    void caaOriginalSteersFromTheInstructionEndOn(@TempDir Path tmp) {
        int vocab = ref.get("steered").get("caa_x4").get("logits").get(0).size();
        float[] unsteered = Fixtures.floats(ref.get("unsteered").get("logits"));
        float[] caaX4 = Fixtures.floats(ref.get("steered").get("caa_x4").get("logits"));
        int n = ref.get("eval_input_ids").size();

        // from prompt token 0 on: every position, as HF's caa_x4
        JsonNode all = logits(tmp, "all", "caa:preset=original,layer=1,coeff=4,instruction_end=0", caaPairsExtended);
        assertTrue(Cli.relativeError(Fixtures.floats(all.get("logits")), caaX4) <= TOLERANCE);

        // from the third token from the end on: the rows before are HF's unsteered ones, the others are not
        for (int end : new int[] {-3, -1}) {
            float[] got = Fixtures.floats(logits(tmp, "end" + end, "caa:preset=original,layer=1,coeff=4,instruction_end=" + end, caaPairsExtended).get("logits"));
            for (int r = 0; r < n; r++) {
                double err = Cli.relativeError(row(got, r, vocab), row(unsteered, r, vocab));
                if (r < n + end) assertTrue(err <= TOLERANCE, "instruction_end=" + end + ": row " + r + " should be unsteered, error " + err);
                else assertTrue(err > 0.01, "instruction_end=" + end + ": row " + r + " should be steered, difference " + err);
            }
        }
        // the default instruction end is the prompt's last token
        float[] byDefault = Fixtures.floats(logits(tmp, "default", "caa:preset=original,layer=1,coeff=4", caaPairsExtended).get("logits"));
        float[] minusOne = Fixtures.floats(logits(tmp, "minus1", "caa:preset=original,layer=1,coeff=4,instruction_end=-1", caaPairsExtended).get("logits"));
        assertArrayEquals(minusOne, byDefault);

        // generated tokens are steered too: with the whole prompt steered, HF's caa_x4 continuation
        JsonNode g = ref.get("steered").get("caa_x4").get("generation");
        Path out = tmp.resolve("gen.json");
        Cli.run("generate", "--model", model, "--ids", Cli.ids(g.get("prompt_ids")), "-n", 10, "--ignore-eos",
                "--method", "caa:preset=original,layer=1,coeff=4,instruction_end=0", "--contrast", caaPairsExtended, "-o", out).ok();
        assertArrayEquals(Fixtures.ints(g.get("new_ids")), Fixtures.ints(Fixtures.json(out).get("steered_ids")));
    }

    @Test
    void actaddPaperIsThePositionalInjectionAtResidPre(@TempDir Path tmp) {
        // blocks.2.hook_resid_pre is the output of block 1, where HF's positional reference adds its matrix
        JsonNode got = logits(tmp, "actadd", "actadd:preset=paper,layer=2,coeff=4", actaddPair);
        assertTrue(got.get("steering").asText().contains("blocks.2.hook_resid_pre"), got.get("steering").asText());
        double err = Cli.relativeError(Fixtures.floats(got.get("logits")), Fixtures.floats(ref.get("steered").get("actadd_positional").get("logits")));
        assertTrue(err <= TOLERANCE, "actadd:preset=paper vs HF's positional injection: " + err);
    }

    @Test
    void aceAlphaInGapUnitsSetsTheProjectionToMultiplesOfTheMeanGap(@TempDir Path tmp) {
        // mu+, mu- from HF's recorded last-token activations at block 1's output
        JsonNode caa = ref.get("caa");
        HfConcept concept = HfConcept.of(caa.get("positive_last_token_acts"), caa.get("negative_last_token_acts"));
        double[] muMinus = concept.muMinus(), r = concept.unit();
        double gap = concept.gap();
        int d = r.length;
        float[] x = Fixtures.floats(ref.get("unsteered").get("hidden_states").get(2));

        double alpha = 0.5;
        JsonNode got = logits(tmp, "ace", "ace:layer=1,coeff=" + alpha + ",alpha_unit=gap", caaPairs);
        float[] edited = Fixtures.floats(got.get("block_outputs").get(1));
        int n = x.length / d;
        float[] expected = new float[x.length];
        for (int t = 0; t < n; t++) {
            double p = 0;
            for (int i = 0; i < d; i++) p += (x[t * d + i] - muMinus[i]) * r[i];
            for (int i = 0; i < d; i++) expected[t * d + i] = (float) (x[t * d + i] + (alpha * gap - p) * r[i]);
        }
        double err = Cli.relativeError(edited, expected);
        assertTrue(err <= TOLERANCE, "ACE edit with alpha in gap units vs the edit from HF's means: " + err);
        Matcher said = Pattern.compile("alpha=([-0-9.eE]+)").matcher(got.get("steering").asText());
        assertTrue(said.find(), got.get("steering").asText());
        assertEquals(alpha * gap, Double.parseDouble(said.group(1)), 1e-4 * gap, "the alpha used, in the activation's units");

        // raw units take the same number as the projection itself
        float[] raw = Fixtures.floats(logits(tmp, "ace-raw", "ace:layer=1,coeff=" + alpha, caaPairs).get("block_outputs").get(1));
        double p = 0;
        for (int i = 0; i < d; i++) p += (raw[i] - muMinus[i]) * r[i];
        assertEquals(alpha, p, 1e-4, "raw: the projection of row 0 is alpha itself");
    }

    @Test
    void saraModesGenerateWhatTheReferenceHookGenerates(@TempDir Path tmp) {
        // sara.json: the reference hook on HF's generate() without the KV cache (recompute), with it (call), and history-keeping
        JsonNode sara = Fixtures.json(model.resolve("sara.json"));
        Path pair = Cli.write(tmp.resolve("sara.jsonl"), pair(Fixtures.ints(sara.get("attract_ids")), Fixtures.ints(sara.get("repel_ids"))));
        for (String mode : List.of("recompute", "call", "history")) {
            JsonNode expected = sara.get("generation").get(mode);
            Path out = tmp.resolve(mode + ".json");
            Cli.run("generate", "--model", model, "--ids", Cli.ids(sara.get("prompt_ids")), "-n", expected.get("tokens").size(), "--ignore-eos",
                    "--method", "sara:layer=" + sara.get("layer").asInt() + ",hook=resid_pre,coeff=" + sara.get("coeff").asDouble() + ",mode=" + mode,
                    "--contrast", pair, "-o", out).ok();
            JsonNode got = Fixtures.json(out);
            assertArrayEquals(Fixtures.ints(expected.get("tokens")), Fixtures.ints(got.get("steered_ids")), mode);
            assertArrayEquals(Fixtures.ints(sara.get("unsteered_tokens")), Fixtures.ints(got.get("unsteered_ids")), mode + ": unsteered");
            assertTrue(got.get("steering").asText().contains(mode.equals("history") ? "sara blocks.2.hook_resid_pre" : "mode=" + mode), got.get("steering").asText());
        }
    }

    @Test
    void presetSpecErrorsSayWhatIsWrong(@TempDir Path tmp) {
        Path out = tmp.resolve("v.safetensors");
        for (List<String> c : List.of(
                List.of("caa:preset=original,layer=1,readout=last", "preset=original sets readout, positions; do not give readout with it"),
                List.of("caa:preset=original,layer=1,positions=all", "preset=original sets readout, positions; do not give positions with it"),
                List.of("caa:layer=1,instruction_end=-2", "instruction_end goes with preset=original"),
                List.of("caa:layer=1,preset=paper", "preset=paper is not a preset of this method (it has: original)"),
                List.of("actadd:preset=paper,layer=2,hook=resid_post", "preset=paper sets hook, variant, positions; do not give hook with it"),
                List.of("actadd:preset=original,layer=2", "preset=original is not a preset of this method (it has: paper)"),
                List.of("ace:layer=1,alpha_unit=percent", "alpha_unit=percent is not one of [raw, gap]"),
                List.of("sara:layer=2,mode=cached", "mode=cached is not one of [history, recompute, call]"),
                List.of("actadd:preset=paper,layer=2", "does not add one fixed vector"))) {
            Cli.Result r = Cli.run("vector", "--model", model, "--method", c.get(0), "--contrast", actaddPair, "-o", out);
            assertEquals(1, r.exit(), c.get(0) + ": " + r.err());
            assertTrue(r.err().contains(c.get(1)), c.get(0) + ": " + r.err());
        }
        assertEquals(List.of(), Cli.strayFiles(tmp));
    }
}
