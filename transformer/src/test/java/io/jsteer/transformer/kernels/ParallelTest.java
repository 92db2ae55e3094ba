/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
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
                        if (to - from < grain && to != n) throw new AssertionError("chunk " + from + ".." + to + " is under the grain " + grain);
                        for (int i = from; i < to; i++) seen.incrementAndGet(i);
                    });
                }
                for (int i = 0; i < n; i++) assertEquals(20, seen.get(i), "n=" + n + " grain=" + grain + " index " + i);
            }
        }
    }

    @Test
    void chunksShrinkTowardTheEnd() {
        List<int[]> chunks = Collections.synchronizedList(new ArrayList<>());
        Parallel.forRange(10_000, 8, (from, to) -> chunks.add(new int[] {from, to}));
        chunks.sort(Comparator.comparingInt(c -> c[0]));
        int at = 0, last = Integer.MAX_VALUE;
        for (int[] c : chunks) {
            assertEquals(at, c[0], "chunks are contiguous");
            int size = c[1] - c[0];
            assertTrue(size <= last, "chunk " + c[0] + ".." + c[1] + " is larger than the one before it");
            assertTrue(size >= 8 || c[1] == 10_000, "chunk " + c[0] + ".." + c[1] + " is under the grain");
            at = c[1];
            last = size;
        }
        assertEquals(10_000, at);
        if (Parallel.threads() > 1) {
            assertEquals(10_000 / (2 * Parallel.threads()), chunks.get(0)[1], "the first chunk is 1 / (2 * threads) of the loop");
            assertTrue(chunks.size() < 100, chunks.size() + " chunks: guided scheduling needs only a few dozen");
        }
    }

    @Test
    void loopsRunTogetherVisitEachOfTheirIndicesOnce() {
        int[] sizes = {0, 12, 5000, 1, 777};
        int[] grains = {1, 6, 1000, 1, 3};
        AtomicIntegerArray[] seen = new AtomicIntegerArray[sizes.length];
        Parallel.Loop[] loops = new Parallel.Loop[sizes.length];
        for (int k = 0; k < sizes.length; k++) {
            int kk = k;
            seen[k] = new AtomicIntegerArray(Math.max(1, sizes[k]));
            loops[k] = new Parallel.Loop(sizes[k], grains[k], (from, to) -> {
                if (from < 0 || to > sizes[kk] || from >= to) throw new AssertionError("chunk " + from + ".." + to + " is outside loop " + kk);
                if (to - from < grains[kk] && to != sizes[kk]) throw new AssertionError("chunk " + from + ".." + to + " of loop " + kk + " is under its grain");
                for (int i = from; i < to; i++) seen[kk].incrementAndGet(i);
            });
        }
        for (int round = 0; round < 20; round++) Parallel.forAll(loops);
        for (int k = 0; k < sizes.length; k++) {
            for (int i = 0; i < sizes[k]; i++) assertEquals(20, seen[k].get(i), "loop " + k + " index " + i);
        }
    }

    /** A short loop of costly indices before a long cheap one is still split between the threads. */
    @Test
    void aShortLoopBeforeALongOneIsShared() {
        List<int[]> heads = Collections.synchronizedList(new ArrayList<>());
        Parallel.forAll(new Parallel.Loop(12, 1, (from, to) -> heads.add(new int[] {from, to})),
                new Parallel.Loop(3000, 1000, (from, to) -> {}));
        int share = (12 + Parallel.threads() - 1) / Parallel.threads();
        for (int[] c : heads) assertTrue(c[1] - c[0] <= share, "chunk " + c[0] + ".." + c[1] + " is more than a thread's share of 12");
        assertEquals(12, heads.stream().mapToInt(c -> c[1] - c[0]).sum());
    }

    /** Workers must not keep a finished loop reachable: its arrays would outlive it and be promoted to the old generation. */
    @Test
    void aFinishedLoopIsNotKeptAlive() throws InterruptedException {
        WeakReference<float[]> ref = runOverAnArray();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(ref.get() == null, "the array of a finished loop is still reachable");
    }

    private static WeakReference<float[]> runOverAnArray() {
        float[] a = new float[1 << 16];
        Parallel.forRange(a.length, 1, (from, to) -> {
            for (int i = from; i < to; i++) a[i] = i;
        });
        return new WeakReference<>(a);
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
        IllegalStateException boom = new IllegalStateException("the chunk of index 5 failed");
        AtomicIntegerArray seen = new AtomicIntegerArray(64);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(64, 1, (a, b) -> {
            for (int i = a; i < b; i++) seen.incrementAndGet(i);
            if (a <= 5 && 5 < b) throw boom;
        }));
        assertSame(boom, e);
        for (int i = 0; i < 64; i++) assertEquals(1, seen.get(i));
        // the pool is usable afterwards
        AtomicIntegerArray again = new AtomicIntegerArray(64);
        Parallel.forRange(64, 1, (a, b) -> {
            for (int i = a; i < b; i++) again.incrementAndGet(i);
        });
        for (int i = 0; i < 64; i++) assertEquals(1, again.get(i));
    }

    @Test
    void rejectsANonPositiveGrainOrANegativeSize() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(10, 0, (a, b) -> {}));
        assertThrows(IllegalArgumentException.class, () -> Parallel.forAll(new Parallel.Loop(-1, 1, (a, b) -> {})));
    }
}
