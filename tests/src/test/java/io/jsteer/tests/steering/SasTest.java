/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.steering;

import static io.jsteer.tests.steering.SteeringFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.steering.ContrastSet;
import io.jsteer.steering.PositionRule;
import io.jsteer.steering.activations.Readout;
import io.jsteer.steering.sas.Sas;
import io.jsteer.steering.sas.SparseAutoencoder;
import io.jsteer.steering.vector.AddVector;
import io.jsteer.tests.Fixtures;
import io.jsteer.transformer.Model;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** SAS through a (random) sparse autoencoder on the Pythia fixture. */
class SasTest {
    static Model model;
    static ContrastSet caa;
    static HookName hook;
    static int[] eval;
    static SparseAutoencoder sae;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir(SteeringFixtures.PYTHIA));
        JsonNode ref = Fixtures.json(SteeringFixtures.PYTHIA, "steering.json");
        hook = new HookName(ref.get("layer").asInt(), HookPoint.RESID_POST);
        caa = new ContrastSet(Fixtures.intLists(ref.get("caa").get("positive_ids")), Fixtures.intLists(ref.get("caa").get("negative_ids")));
        eval = Fixtures.ints(ref.get("eval_input_ids"));
        sae = randomSae(new Random(17), 64, 128);
    }

    /** An untrained ReLU SAE: random unit-ish encoder columns, decoder its transpose. */
    static SparseAutoencoder randomSae(Random rnd, int dIn, int dSae) {
        float[] wEnc = new float[dIn * dSae], wDec = new float[dSae * dIn];
        for (int i = 0; i < dIn; i++) {
            for (int j = 0; j < dSae; j++) {
                float w = (float) (rnd.nextGaussian() / Math.sqrt(dIn));
                wEnc[i * dSae + j] = w;
                wDec[j * dIn + i] = w;
            }
        }
        return new SparseAutoencoder("random", SparseAutoencoder.Activation.RELU, dIn, dSae, wEnc, new float[dSae], wDec, new float[dIn], null, false,
                "blocks.1.hook_resid_post");
    }

    @Test
    void zeroCoefficientLeavesTheModelUnchanged() {
        Sas.Fitted steer = new Sas(sae, 0).fit(model, caa);
        assertTrue(steer.features().length > 0);
        assertArrayEquals(SteeringFixtures.logits(model, null, eval), SteeringFixtures.logits(model, steer, eval));
        int[] prompt = Arrays.copyOf(eval, 7);
        assertArrayEquals(SteeringFixtures.greedyCached(model, null, prompt, 5), SteeringFixtures.greedyCached(model, steer, prompt, 5));
    }

    @Test
    void withoutClampingSasAddsTheDecodedVector() {
        Sas.Options noClamp = new Sas.Options(0, true, 12, false);
        Sas.Fitted steer = new Sas(sae, hook, 3.0, noClamp, Readout.last(), PositionRule.all()).fit(model, caa);
        assertEquals(12, steer.features().length);
        AddVector same = new AddVector(steer.decodedDirection(), 3.0, PositionRule.all());
        assertClose(SteeringFixtures.logits(model, same, eval), SteeringFixtures.logits(model, steer, eval), 1e-5, "SAS unclamped vs added decoded vector");
        float[] unsteered = SteeringFixtures.logits(model, null, eval), steered = SteeringFixtures.logits(model, steer, eval);
        double moved = 0;
        for (int i = 0; i < steered.length; i++) moved = Math.max(moved, Math.abs(steered[i] - unsteered[i]));
        assertTrue(moved > 1e-2, "steering must change the logits, moved " + moved);
    }

    @Test
    void refusesAMismatchedSae() {
        SparseAutoencoder narrow = randomSae(new Random(1), 32, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sas(narrow, 1).fit(model, caa));
        assertEquals("SAE d_in 32 does not match the model's hidden size 64", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Sas(sae, new HookName(2, HookPoint.RESID_POST), 1, Sas.Options.defaults(), Readout.last(), PositionRule.all()));
        assertEquals("the SAE was trained on blocks.1.hook_resid_post, steering asked for blocks.2.hook_resid_post", e.getMessage());
    }
}
