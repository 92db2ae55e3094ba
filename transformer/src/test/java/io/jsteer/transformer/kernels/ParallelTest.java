package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void visitsEveryIndexOnce() {
        for (int n : new int[] {0, 1, 7, 64, 1000, 4097}) {
            for (int grain : new int[] {1, 3, 64, 5000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, n));
                for (int round = 0; round < 20; round++) {
                    Parallel.forRange(n, grain, (from, to) -> {
                        if (to - from > grain) throw new AssertionError("chunk " + from + ".." + to + " exceeds grain " + grain);
                        for (int i = from; i < to; i++) seen.incrementAndGet(i);
                    });
                }
                for (int i = 0; i < n; i++) assertEquals(20, seen.get(i), "n=" + n + " grain=" + grain + " index " + i);
            }
        }
    }

    @Test
    void nestedLoopsRunOnTheirCaller() {
        AtomicIntegerArray seen = new AtomicIntegerArray(100 * 10);
        Parallel.forRange(100, 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                int row = i;
                Parallel.forRange(10, 1, (c, d) -> {
                    for (int j = c; j < d; j++) seen.incrementAndGet(row * 10 + j);
                });
            }
        });
        for (int i = 0; i < seen.length(); i++) assertEquals(1, seen.get(i));
    }

    @Test
    void rethrowsTheFailureAfterTheOtherChunks() {
        IllegalStateException boom = new IllegalStateException("chunk 5 failed");
        AtomicIntegerArray seen = new AtomicIntegerArray(64);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(64, 1, (a, b) -> {
            seen.incrementAndGet(a);
            if (a == 5) throw boom;
        }));
        assertSame(boom, e);
        for (int i = 0; i < 64; i++) assertEquals(1, seen.get(i));
        // the pool is usable afterwards
        AtomicIntegerArray again = new AtomicIntegerArray(64);
        Parallel.forRange(64, 1, (a, b) -> again.incrementAndGet(a));
        for (int i = 0; i < 64; i++) assertEquals(1, again.get(i));
    }

    @Test
    void rejectsANonPositiveGrain() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(10, 0, (a, b) -> {}));
    }
}
