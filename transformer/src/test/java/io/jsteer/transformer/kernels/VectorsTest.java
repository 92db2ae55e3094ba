package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VectorsTest {
    @Test
    void dotAndAxpyMatchDoublePrecisionForEveryTailLength() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int n = 0; n <= 70; n++) {
            for (int off : new int[] {0, 3}) {
                float[] a = random(n + off, rnd), b = random(n + 2 * off, rnd), y = random(n + off, rnd);
                double dot = 0, abs = 0;
                for (int i = 0; i < n; i++) {
                    dot += (double) a[off + i] * b[2 * off + i];
                    abs += Math.abs((double) a[off + i] * b[2 * off + i]);
                }
                int len = n;
                assertEquals(dot, Vectors.dot(a, off, b, 2 * off, n), 1e-6 * abs + 1e-30, () -> "dot n=" + len);

                float alpha = (float) rnd.nextGaussian();
                double[] expected = new double[n];
                for (int i = 0; i < n; i++) expected[i] = y[off + i] + (double) alpha * a[off + i];
                float before = off > 0 ? y[off - 1] : 0;
                Vectors.axpy(alpha, a, off, y, off, n);
                for (int i = 0; i < n; i++) assertEquals(expected[i], y[off + i], 1e-6 * (Math.abs(expected[i]) + 1), "axpy n=" + n + " i=" + i);
                if (off > 0) assertEquals(before, y[off - 1], "axpy wrote before its range");
            }
        }
    }

    private static float[] random(int n, SplittableRandom rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
