package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ContinuationsTest {
    @Test
    void argmaxTakesTheFirstMaximum() {
        assertEquals(1, Continuations.argmax(new float[] {0, 3, 3, -1}));
    }

    @Test
    void samplingFollowsTheTemperedSoftmax() {
        float[] logits = {1.0f, 2.0f, 0.0f, -50f};
        double temperature = 0.7;
        double[] p = new double[logits.length];
        double z = 0;
        for (int i = 0; i < p.length; i++) z += p[i] = Math.exp(logits[i] / temperature);
        int n = 200_000;
        int[] counts = new int[logits.length];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < n; i++) counts[Continuations.sample(logits, temperature, r)]++;
        for (int i = 0; i < p.length; i++) {
            double expected = p[i] / z;
            // 5 binomial standard deviations
            double tol = 5 * Math.sqrt(expected * (1 - expected) / n) + 1e-9;
            assertEquals(expected, counts[i] / (double) n, tol, "token " + i);
        }
    }
}
