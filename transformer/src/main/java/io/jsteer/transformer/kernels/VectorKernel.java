/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.kernels;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.F2I;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.S2I;

import io.jsteer.weights.DType;
import java.lang.constant.ConstantDescs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API inner loops, written once and instantiated per vector width by {@link Kernels}.
 *
 * <p>The JIT only compiles Vector API code to SIMD instructions when the species is a constant,
 * so the width cannot be a field or a parameter. Each width is therefore a separate hidden class
 * defined from this class's bytes, whose {@code static final} species come from its class data
 * (see {@link MethodHandles#classData}). This class itself is never initialised.
 *
 * <p>The loops stay small on purpose: C2 stops inlining once a method's graph grows past a node
 * budget, and a Vector API call it does not inline boxes its vector on the heap, which runs
 * tens of times slower. Hence one conversion per helper and no more than 16 accumulators.
 */
final class VectorKernel implements Kernel {
    private static final int BITS;
    /** float32 lanes of the chosen width. */
    private static final VectorSpecies<Float> F;
    private static final VectorSpecies<Integer> I;
    /** 16-bit lanes of half the width: one load widens to one float vector. */
    private static final VectorSpecies<Short> H;
    private static final int L;
    /**
     * Tokens and rows of the register tile of {@link #matmul}: 6 x 4 accumulators of one parity
     * of chunks (the even chunks of a block, then the odd ones, each sum going to its own
     * accumulator of the reduction order), plus 4 vectors of weights and one of x: 29 of the 32
     * vector registers.
     */
    private static final int T = 6, R = 4;
    /**
     * Tokens and rows of the tile of {@link #matmulFew}: 2 x 4 x both accumulators, reading
     * the weights where they lie.
     */
    private static final int FT = 4, FR = 2;
    /** Fewest tokens for which {@link #matmul} packs the rows (see {@link #matmulFew}), {@link QuantKernel}'s too. */
    static final int PACKED_TOKENS = 16;
    /**
     * Rows per block of {@link #matmul} when the columns fit one block (twice as many past one),
     * whose partial accumulators stay in L2 across column blocks.
     */
    private static final int MC = 16;
    /**
     * Columns per block of {@link #matmul}: the x of T tokens over one block (24 KB at 1024
     * float columns) stays in L1 while the rows of the block pass over it.
     */
    private static final int KC = 1024;
    /**
     * Most tokens whose partial accumulators are kept at once (a multiple of T): the rows of a
     * block are widened once per group of tokens.
     */
    private static final int NC = 252;
    /** Lane rotations by 8, 4, 2 and 1 for {@link #sum}; those at or past the lane count are unused. */
    private static final VectorShuffle<Float> ROT8, ROT4, ROT2, ROT1;
    /**
     * Lane indices for {@link #halve} by the lanes {@code b} each row holds (16, 8, 4, 2): the
     * first half of each row's block, then the second, from two vectors ({@code null} where b is
     * past the lane count).
     */
    private static final FloatVector FIRST16, SECOND16, FIRST8, SECOND8, FIRST4, SECOND4, FIRST2, SECOND2;
    /** Lane indices of the even and of the odd elements of two vectors, for {@link #splitPair}. */
    private static final FloatVector EVENS, ODDS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final float SQRT_HALF = 0.70710677f;
    /**
     * erf(u) = u P(u^2) / Q(u^2) on [-4, 4] (erf is +-1 in float32 beyond), absolute error
     * under 3.5e-7 evaluated in float32: the rational approximation of Eigen and XLA, coefficients from the highest power.
     */
    private static final float[] ERF_P = {-2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f,
        -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f, -1.60960333262415e-02f};
    private static final float[] ERF_Q = {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f,
        -7.37332916720468e-03f, -1.42647390514189e-02f};
    private static final float SQRT_2_OVER_PI = 0.7978846f, GELU_CUBIC = 0.044715f;
    /**
     * exp(t) = 2^n exp(r), n = round(t / ln 2), r = t - n ln 2 with ln 2 split in two for an exact
     * product, and exp(r) = 1 + r + r^2 P(r): Cephes' expf, relative error about 2e-7. Adding and
     * subtracting 1.5 * 2^23 rounds to the nearest integer in plain float arithmetic.
     */
    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = 2.12194440e-4f, ROUNDER = 12582912f;
    private static final float[] EXP_P = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
    /**
     * tanh u = u (1 - u^2/3 + 2u^4/15 - 17u^6/315) below this, where the series' next term is
     * under 1e-11 of u; above it tanh u = (1 - t) / (1 + t), t = exp(-2u), whose cancellation in
     * 1 - t grows as u falls (4e-7 relative at most, measured with cap 30 over [-300, 300]).
     */
    private static final float TANH_SERIES = 0.0625f;
    private static final float[] TANH_P = {-17f / 315, 2f / 15, -1f / 3, 1f};
    /** exp is 0 or 1 + x to float precision outside this range, and 2^n stays a normal float inside it. */
    private static final float EXP_MIN = -87f, EXP_MAX = 88f;

    static {
        try {
            BITS = MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, Integer.class);
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
        F = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
        I = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
        H = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS / 2));
        L = F.length();
        ROT8 = VectorShuffle.iota(F, 8, 1, true);
        ROT4 = VectorShuffle.iota(F, 4, 1, true);
        ROT2 = VectorShuffle.iota(F, 2, 1, true);
        ROT1 = VectorShuffle.iota(F, 1, 1, true);
        FIRST16 = halves(16, 0);
        SECOND16 = halves(16, 8);
        FIRST8 = halves(8, 0);
        SECOND8 = halves(8, 4);
        FIRST4 = halves(4, 0);
        SECOND4 = halves(4, 2);
        FIRST2 = halves(2, 0);
        SECOND2 = halves(2, 1);
        float[] evens = new float[L], odds = new float[L];
        for (int i = 0; i < L; i++) {
            evens[i] = 2 * i;
            odds[i] = 2 * i + 1;
        }
        EVENS = FloatVector.fromArray(F, evens, 0);
        ODDS = FloatVector.fromArray(F, odds, 0);
    }

    /**
     * Indices, for {@link FloatVector#selectFrom(jdk.incubator.vector.Vector, jdk.incubator.vector.Vector)},
     * of lane {@code from + o} of each block of {@code b} lanes, {@code o < b / 2}: the blocks of the
     * first vector, then those of the second (lane {@code L + i}), each shrunk to {@code b / 2} lanes.
     */
    private static FloatVector halves(int b, int from) {
        if (b > L) return null;
        float[] index = new float[L];
        int h = b / 2, blocks = L / b;
        for (int i = 0; i < L; i++) {
            int block = i / h, vector = block / blocks;
            index[i] = vector * L + block % blocks * b + from + i % h;
        }
        return FloatVector.fromArray(F, index, 0);
    }

    /**
     * The lanes of {@code v} added in a fixed tree order. {@code reduceLanes(ADD)} leaves the
     * order of a float sum open, and compiled code orders it differently from the interpreter,
     * so the same input would give results that change in the last bit once the JIT is done.
     */
    private static float sum(FloatVector v) {
        if (L > 8) v = v.add(v.rearrange(ROT8));
        if (L > 4) v = v.add(v.rearrange(ROT4));
        v = v.add(v.rearrange(ROT2));
        return v.add(v.rearrange(ROT1)).lane(0);
    }

    @Override
    public int bits() {
        return BITS;
    }

    @Override
    public float[] bf16Input(float[] x, int cols, int tokens) {
        return splitBf16(x, cols, tokens, new float[tokens * cols]);
    }

    /** {@link #bf16Input} into {@code split}. */
    private static float[] splitBf16(float[] x, int cols, int tokens, float[] split) {
        int main = cols - cols % (2 * L);
        for (int t = 0; t < tokens; t++) {
            int o = t * cols;
            for (int b = o; b < o + main; b += 2 * L) splitPair(x, b, split, b, b + L);
            System.arraycopy(x, o + main, split, o + main, cols - main);
        }
        return split;
    }

    /** The 2L floats {@code x[at..at + 2L)}: the even ones into {@code dst[evenAt..evenAt + L)}, the odd ones into {@code dst[oddAt..oddAt + L)}. */
    private static void splitPair(float[] x, int at, float[] dst, int evenAt, int oddAt) {
        FloatVector v0 = FloatVector.fromArray(F, x, at), v1 = FloatVector.fromArray(F, x, at + L);
        EVENS.selectFrom(v0, v1).intoArray(dst, evenAt);
        ODDS.selectFrom(v0, v1).intoArray(dst, oddAt);
    }

    /** Columns covered by whole chunks of the reduction order (see {@link Kernel}); the rest is the scalar tail. */
    private static int main(DType dtype, int cols) {
        return cols - cols % (dtype == DType.BF16 ? 2 * L : L);
    }

    @Override
    public void matvec(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int r0, int r1, boolean sequential) {
        long rowBytes = (long) cols * dtype.bytes();
        int main = main(dtype, cols);
        int block = sequential || dtype == DType.F16 ? 2 : 4;
        float[] acc = new float[4];
        for (int r = r0; r < r1; r += block) {
            // past the last row the block repeats it; those results are not stored
            long w0 = r * rowBytes, w1 = Math.min(r + 1, rows - 1) * rowBytes;
            if (block == 2) {
                switch (dtype) {
                    case F32 -> dot2F32(w, w0, w1, x, main, acc);
                    case BF16 -> dot2Bf16(w, w0, w1, x, main, acc);
                    case F16 -> dot2F16(w, w0, w1, x, main, acc);
                }
            } else {
                long w2 = Math.min(r + 2, rows - 1) * rowBytes, w3 = Math.min(r + 3, rows - 1) * rowBytes;
                if (dtype == DType.F32) dot4F32(w, w0, w1, w2, w3, x, main, acc);
                else dot4Bf16(w, w0, w1, w2, w3, x, main, acc);
            }
            for (int i = 0; i < Math.min(block, r1 - r); i++) {
                out[r + i] = withTail(acc[i], dtype, w, Math.min(r + i, rows - 1) * rowBytes, x, 0, main, cols);
            }
        }
    }

    /**
     * Two F32 rows' products with x over its first {@code n} columns (a multiple of L): chunk
     * {@code j} of L columns goes to accumulator {@code j % 2}.
     */
    private static void dot2F32(MemorySegment w, long w0, long w1, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        int c = 0;
        for (; c < n - L; c += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, c), x1 = FloatVector.fromArray(F, x, c + L);
            long o = 4L * c, p = o + 4L * L;
            a0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE).fma(x0, a0);
            b0 = FloatVector.fromMemorySegment(F, w, w1 + o, LE).fma(x0, b0);
            a1 = FloatVector.fromMemorySegment(F, w, w0 + p, LE).fma(x1, a1);
            b1 = FloatVector.fromMemorySegment(F, w, w1 + p, LE).fma(x1, b1);
        }
        if (c < n) {
            FloatVector x0 = FloatVector.fromArray(F, x, c);
            a0 = FloatVector.fromMemorySegment(F, w, w0 + 4L * c, LE).fma(x0, a0);
            b0 = FloatVector.fromMemorySegment(F, w, w1 + 4L * c, LE).fma(x0, b0);
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
    }

    /** As {@link #dot2F32} for four rows, which share each load of x (x no longer in L1). */
    private static void dot4F32(MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int c = 0;
        for (; c < n - L; c += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, c), x1 = FloatVector.fromArray(F, x, c + L);
            long o = 4L * c, p = o + 4L * L;
            a0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE).fma(x0, a0);
            b0 = FloatVector.fromMemorySegment(F, w, w1 + o, LE).fma(x0, b0);
            c0 = FloatVector.fromMemorySegment(F, w, w2 + o, LE).fma(x0, c0);
            d0 = FloatVector.fromMemorySegment(F, w, w3 + o, LE).fma(x0, d0);
            a1 = FloatVector.fromMemorySegment(F, w, w0 + p, LE).fma(x1, a1);
            b1 = FloatVector.fromMemorySegment(F, w, w1 + p, LE).fma(x1, b1);
            c1 = FloatVector.fromMemorySegment(F, w, w2 + p, LE).fma(x1, c1);
            d1 = FloatVector.fromMemorySegment(F, w, w3 + p, LE).fma(x1, d1);
        }
        if (c < n) {
            FloatVector x0 = FloatVector.fromArray(F, x, c);
            long o = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE).fma(x0, a0);
            b0 = FloatVector.fromMemorySegment(F, w, w1 + o, LE).fma(x0, b0);
            c0 = FloatVector.fromMemorySegment(F, w, w2 + o, LE).fma(x0, c0);
            d0 = FloatVector.fromMemorySegment(F, w, w3 + o, LE).fma(x0, d0);
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
        acc[2] = sum(c0.add(c1));
        acc[3] = sum(d0.add(d1));
    }

    /**
     * Two BF16 rows over the first {@code n} columns (a multiple of 2L). Each 32-bit word holds
     * an even column in its low half and the next odd one in its high half, both already float32
     * bit patterns once moved to the top: shift one, mask the other, and multiply by x split into
     * even and odd columns ({@link #bf16Input}); no widening conversion is needed. The even
     * columns of each block of 2L are chunk {@code 2b}, going to accumulator 0, the odd ones
     * chunk {@code 2b + 1}, accumulator 1.
     */
    private static void dot2Bf16(MemorySegment w, long w0, long w1, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        for (int c = 0; c < n; c += 2 * L) {
            FloatVector xe = FloatVector.fromArray(F, x, c), xo = FloatVector.fromArray(F, x, c + L);
            long o = 2L * c;
            IntVector p = IntVector.fromMemorySegment(I, w, w0 + o, LE), q = IntVector.fromMemorySegment(I, w, w1 + o, LE);
            a0 = even(p).fma(xe, a0);
            b0 = even(q).fma(xe, b0);
            a1 = odd(p).fma(xo, a1);
            b1 = odd(q).fma(xo, b1);
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
    }

    /** As {@link #dot2Bf16} for four rows sharing each load of x. */
    private static void dot4Bf16(MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int c = 0; c < n; c += 2 * L) {
            FloatVector xe = FloatVector.fromArray(F, x, c), xo = FloatVector.fromArray(F, x, c + L);
            long o = 2L * c;
            IntVector p = IntVector.fromMemorySegment(I, w, w0 + o, LE);
            a0 = even(p).fma(xe, a0);
            a1 = odd(p).fma(xo, a1);
            p = IntVector.fromMemorySegment(I, w, w1 + o, LE);
            b0 = even(p).fma(xe, b0);
            b1 = odd(p).fma(xo, b1);
            p = IntVector.fromMemorySegment(I, w, w2 + o, LE);
            c0 = even(p).fma(xe, c0);
            c1 = odd(p).fma(xo, c1);
            p = IntVector.fromMemorySegment(I, w, w3 + o, LE);
            d0 = even(p).fma(xe, d0);
            d1 = odd(p).fma(xo, d1);
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
        acc[2] = sum(c0.add(c1));
        acc[3] = sum(d0.add(d1));
    }

    /** As {@link #dot2F32} for F16 rows, widened in registers. */
    private static void dot2F16(MemorySegment w, long w0, long w1, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        int c = 0;
        for (; c < n - L; c += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, c), x1 = FloatVector.fromArray(F, x, c + L);
            long o = 2L * c, p = o + 2L * L;
            a0 = f16(w, w0 + o).fma(x0, a0);
            b0 = f16(w, w1 + o).fma(x0, b0);
            a1 = f16(w, w0 + p).fma(x1, a1);
            b1 = f16(w, w1 + p).fma(x1, b1);
        }
        if (c < n) {
            FloatVector x0 = FloatVector.fromArray(F, x, c);
            a0 = f16(w, w0 + 2L * c).fma(x0, a0);
            b0 = f16(w, w1 + 2L * c).fma(x0, b0);
        }
        acc[0] = sum(a0.add(a1));
        acc[1] = sum(b0.add(b1));
    }

    @Override
    public void matmul(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1, Object product) {
        if (tokens >= PACKED_TOKENS || dtype.isQuantized()) {
            matmulPacked(dtype, w, rows, cols, x, out, tokens, r0, r1, product);
        } else if (dtype == DType.BF16) {
            Scratch s = Scratch.of(0, 0, tokens * cols);
            float[] split = s.input(product, 0);
            if (split == null) split = splitBf16(x, cols, tokens, s.claimInput(product, 0));
            matmulFew(dtype, w, rows, cols, split, out, tokens, r0, r1);
        } else {
            matmulFew(dtype, w, rows, cols, x, out, tokens, r0, r1);
        }
    }

    /**
     * {@link #matmul} for many tokens (prefill): the rows of a block widened (or, in a block
     * format, decoded) to float32 once into packed panels, the tokens laid out once per thread,
     * and a tile of 4 rows x 6 tokens (see {@link #micro}).
     */
    private static void matmulPacked(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1, Object product) {
        long rowBytes = dtype.bytesOf(cols);
        int main = main(dtype, cols);
        // equal groups of at most NC tokens, each a multiple of T
        int groups = (tokens + NC - 1) / NC, group = ((tokens + groups - 1) / groups + T - 1) / T * T;
        // floats of partial accumulators per row of a block: two vectors per token of the group
        int ps = group * 2 * L;
        // rows per block: past one block of columns, twice as many halve the passes over the tokens
        int mc = main > KC ? 2 * MC : MC;
        Scratch s = Scratch.of(mc * ps, mc * KC, group * main);
        float[] p = s.partials;
        // every block starts at its array's first element on a cache line (see Scratch)
        int ap = Scratch.lineStart(p), ar = Scratch.lineStart(s.rows);
        QuantKernel.RowDecoder decoder = dtype.isQuantized() ? s.decoder(0, KC) : null;
        float[] half = new float[2 * L];
        for (int tg = 0; tg < tokens; tg += group) {
            int te = Math.min(tokens, tg + group);
            float[] xp = s.input(product, tg);
            if (xp == null) xp = packInput(dtype, x, cols, main, tg, te, s.claimInput(product, tg), s.inputStart());
            int ax = s.inputStart();
            for (int rb = r0; rb < r1; rb += mc) {
                int nr = Math.min(mc, r1 - rb);
                for (int cb = 0; cb < main; cb += KC) {
                    int n = Math.min(KC, main - cb);
                    // chunks of L columns in the block: the even ones, then the odd ones, per parity pass
                    int chunks = n / L, even = (chunks + 1) / 2, odd = chunks / 2;
                    packRows(dtype, w, rowBytes, rows, rb, nr, cb, n, s.rows, ar, decoder);
                    for (int t = tg; t < te; t += T) {
                        // this block's first chunk for tokens t..t+T-1
                        int xo = ax + ((t - tg) / T * (main / L) + cb / L) * T * L;
                        for (int i = 0; i < nr; i += R) {
                            int po = ap + i * ps + (t - tg) * 2 * L, wo = ar + i * KC;
                            micro(s.rows, wo, even, xp, xo, p, po, ps, cb == 0);
                            micro(s.rows, wo + R * L * even, odd, xp, xo + T * L, p, po + L, ps, cb == 0);
                        }
                        // after the last block of columns these tokens' sums are done: finish
                        // them while their accumulators are still in L1
                        if (cb + n == main) storeSums(dtype, w, rowBytes, cols, main, x, p, ap, ps, out, rows, rb, nr, tg, t, Math.min(te, t + T), half);
                    }
                }
                if (main == 0) storeSums(dtype, w, rowBytes, cols, main, x, p, ap, ps, out, rows, rb, nr, tg, tg, te, half);
            }
        }
    }

    /**
     * The results of rows {@code [rb, rb + nr)} for tokens {@code [t0, t1)} into {@code out}, from
     * the partial accumulators {@code p} of {@link #matmulPacked} or {@link #matmulFew} (row
     * {@code i}, token {@code t} at {@code ap + i ps + 2L (t - tg)}), L rows at a time
     * ({@link #combineRows}) then one by one, plus each row's tail; {@code half} is
     * {@link #combineRows}'.
     */
    private static void storeSums(DType dtype, MemorySegment w, long rowBytes, int cols, int main, float[] x, float[] p, int ap, int ps,
            float[] out, int rows, int rb, int nr, int tg, int t0, int t1, float[] half) {
        // with no whole chunk (main == 0) no tile has run and the sum of chunks is 0
        int byVector = main == 0 ? 0 : nr - nr % L;
        for (int t = t0; t < t1; t++) {
            int o = t * rows + rb, po = ap + (t - tg) * 2 * L;
            for (int i = 0; i < byVector; i += L) combineRows(p, po + i * ps, ps, out, o + i, half);
            for (int i = byVector; i < nr; i++) out[o + i] = main == 0 ? 0f : combine(p, po + i * ps);
            if (main < cols) {
                for (int i = 0; i < nr; i++) out[o + i] = withTail(out[o + i], dtype, w, (rb + i) * rowBytes, x, t * cols, main, cols);
            }
        }
    }

    /**
     * Rows and token vectors of {@link #promptTile}; rows per block of {@link #matmulPrompt} and
     * per super-block of blocks that share x's columns; columns per block of its tile (x's block
     * then stays in the L1 cache for all the rows of a block) and per widened panel (each weight
     * row is read from the file in one stretch); most tokens laid out at once.
     */
    private static final int PR = 6, PV = 4, PMC = 48, PSB = 8 * PMC, PKC = 128, WKC = 1024, PNC = 256;

    @Override
    public void matmulPrompt(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1, Object product) {
        // tokens in chunks of at most PNC: the layout of x and the partial sums stay bounded
        // whatever the prompt's length (the weights are widened again per chunk)
        for (int tg = 0; tg < tokens; tg += PNC) promptChunk(dtype, w, rows, cols, x, out, tg, Math.min(tokens, tg + PNC), r0, r1, product);
    }

    /** {@link #matmulPrompt} for tokens {@code [tg, te)}. */
    private void promptChunk(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tg, int te, int r0, int r1, Object product) {
        long rowBytes = dtype.bytesOf(cols);
        // columns up to whole blocks of the tile, tokens up to whole groups: x's padding is +0
        int tokens = te - tg, group = PV * L, padded = (tokens + group - 1) / group * group, xCols = (cols + PKC - 1) / PKC * PKC;
        // past one panel's columns, rows in super-blocks of PSB, their columns outer: x's block
        // of WKC columns is then read from the L2 cache by all the super-block's rows, however
        // many columns x has
        int superRows = cols > WKC ? PSB : PMC;
        Scratch s = Scratch.of((superRows + PR) * padded, PMC * WKC, padded * xCols);
        // x column-major per group of tokens: group g, column c, token j at (g xCols + c) group + j;
        // laid out once per thread, product and chunk
        float[] xt = s.input(product, tg);
        if (xt == null) {
            xt = s.claimInput(product, tg);
            int xs = s.inputStart();
            int[] strided = new int[L];
            for (int j = 0; j < L; j++) strided[j] = j * cols;
            int whole = tokens - tokens % L;
            for (int t = 0; t < whole; t += L) {
                // L tokens' column c at once by a gather, stride cols
                int base = xs + t / group * xCols * group + t % group;
                for (int c = 0; c < cols; c++) FloatVector.fromArray(F, x, (tg + t) * cols + c, strided, 0).intoArray(xt, base + c * group);
            }
            for (int t = whole; t < padded; t++) {
                int base = xs + t / group * xCols * group + t % group;
                for (int c = 0; c < cols; c++) xt[base + c * group] = t < tokens ? x[(tg + t) * cols + c] : 0f;
            }
            for (int g = 0; g < padded; g += group) java.util.Arrays.fill(xt, xs + (g / group * xCols + cols) * group, xs + (g / group + 1) * xCols * group, 0f);
        }
        float[] panel = s.rows, p = s.partials;
        int xs = s.inputStart(), pz = Scratch.lineStart(p);
        int[] rowStride = new int[L];
        for (int j = 0; j < L; j++) rowStride[j] = j * padded;
        QuantKernel.RowDecoder decoder = dtype.isQuantized() ? s.decoder(0, WKC) : null;
        for (int sb = r0; sb < r1; sb += superRows) {
            int se = Math.min(r1, sb + superRows);
            for (int kb = 0; kb < cols; kb += WKC) {
                int kn = Math.min(WKC, cols - kb);
                for (int rb = sb; rb < se; rb += PMC) {
                    int nr = Math.min(PMC, se - rb), pr = pz + (rb - sb) * padded;
                    widenRows(dtype, w, rowBytes, rb, nr, kb, kn, panel, decoder);
                    for (int cb = kb; cb < kb + kn; cb += PKC) {
                        int block = (cb - kb) / PKC * PMC * PKC;
                        for (int g = 0; g < padded; g += group) {
                            int xo = xs + (g / group * xCols + cb) * group;
                            if (tokens - g > 2 * L) {
                                for (int i = 0; i < nr; i += PR) promptTile(panel, block + i * PKC, xt, xo, p, pr + i * padded + g, padded, cb == 0);
                            } else {
                                // a short last group: vector by vector rather than four vectors' work
                                for (int v = 0; v * L < tokens - g; v++) {
                                    for (int i = 0; i < nr; i += PR) promptTileVector(panel, block + i * PKC, xt, xo + v * L, group, p, pr + i * padded + g + v * L, padded, cb == 0);
                                }
                            }
                        }
                    }
                    // the block's sums are complete after the last panel, and still in the L1
                    // cache: token by token into out, where each token's rows lie together
                    if (kb + kn == cols) {
                        int byVector = nr - nr % L;
                        for (int t = 0; t < tokens; t++) {
                            for (int i = 0; i < byVector; i += L) FloatVector.fromArray(F, p, pr + i * padded + t, rowStride, 0).intoArray(out, (tg + t) * rows + rb + i);
                            for (int i = byVector; i < nr; i++) out[(tg + t) * rows + rb + i] = p[pr + i * padded + t];
                        }
                    }
                }
            }
        }
    }

    /**
     * Rows {@code [rb, rb + nr)}, columns {@code [kb, kb + kn)} widened (or decoded) to float32
     * into {@code panel} as {@link #panelIndex} lays them out. The rows past {@code nr} up to a
     * whole tile are zero: a tile then reads finite weights whose sums are never kept. The
     * columns past {@code kn} up to a whole block are -0, and x's there +0: a tile's
     * multiply-adds there add -0, which leaves every sum as it is, -0 included.
     */
    private static void widenRows(DType dtype, MemorySegment w, long rowBytes, int rb, int nr, int kb, int kn, float[] panel, QuantKernel.RowDecoder decoder) {
        for (int i = 0; i < nr; i++) {
            long src = (rb + i) * rowBytes + dtype.bytesOf(kb);
            int c = 0;
            switch (dtype) {
                case BF16 -> {
                    for (; c <= kn - L; c += L) widen(w, src + 2L * c).lanewise(LSHL, 16).reinterpretAsFloats().intoArray(panel, panelIndex(i, c));
                    for (; c < kn; c++) panel[panelIndex(i, c)] = Float.intBitsToFloat(w.get(U16, src + 2L * c) << 16);
                }
                case F32 -> {
                    for (; c <= kn - L; c += L) FloatVector.fromMemorySegment(F, w, src + 4L * c, LE).intoArray(panel, panelIndex(i, c));
                    for (; c < kn; c++) panel[panelIndex(i, c)] = w.get(F32, src + 4L * c);
                }
                case F16 -> {
                    for (; c <= kn - L; c += L) f16(w, src + 2L * c).intoArray(panel, panelIndex(i, c));
                    for (; c < kn; c++) panel[panelIndex(i, c)] = Float.float16ToFloat(w.get(U16, src + 2L * c));
                }
                default -> {
                    float[] row = decoder.decode(dtype, w, src, kn);
                    for (; c < kn; c += PKC) System.arraycopy(row, c, panel, panelIndex(i, c), Math.min(PKC, kn - c));
                }
            }
            if (kn % PKC != 0) java.util.Arrays.fill(panel, panelIndex(i, kn), panelIndex(i, kn) + PKC - kn % PKC, -0f);
        }
        for (int c = 0; c < kn; c += PKC) java.util.Arrays.fill(panel, panelIndex(nr, c), panelIndex((nr + PR - 1) / PR * PR, c), 0f);
    }

    /**
     * Where a panel of {@link #widenRows} keeps row {@code i}, column {@code c} (from the panel's
     * first): block of columns {@code c / PKC} at {@code PMC PKC} floats a block, {@link #PKC}
     * floats a row within it. Vectors of L columns stay whole, as {@code PKC} is a multiple of L.
     */
    private static int panelIndex(int i, int c) {
        return c / PKC * (PMC * PKC) + i * PKC + c % PKC;
    }

    /**
     * {@link #PR} rows of {@code wp} from {@code wo}, {@link #PKC} floats apart, times
     * {@link #PV} vectors of tokens laid out column-major from {@code xo} of {@code xt}, over
     * {@link #PKC} columns, continuing the sums in {@code p} (row i, token j at
     * {@code po + i ps + j}) or starting from zero. Each lane is one output, and column after
     * column it takes one fused multiply-add: the prompt order, whatever the tile's shape. The
     * weight is broadcast from a constant offset of one index, so the loop needs few registers
     * for addresses and keeps all its vectors in registers; its constant trip count spares it
     * the compiler's safepoint polls, which cost it registers.
     */
    private static void promptTile(float[] wp, int wo, float[] xt, int xo, float[] p, int po, int ps, boolean fresh) {
        int q1 = po + ps, q2 = q1 + ps, q3 = q2 + ps, q4 = q3 + ps, q5 = q4 + ps;
        FloatVector a00 = acc(p, po, fresh), a01 = acc(p, po + L, fresh), a02 = acc(p, po + 2 * L, fresh), a03 = acc(p, po + 3 * L, fresh);
        FloatVector a10 = acc(p, q1, fresh), a11 = acc(p, q1 + L, fresh), a12 = acc(p, q1 + 2 * L, fresh), a13 = acc(p, q1 + 3 * L, fresh);
        FloatVector a20 = acc(p, q2, fresh), a21 = acc(p, q2 + L, fresh), a22 = acc(p, q2 + 2 * L, fresh), a23 = acc(p, q2 + 3 * L, fresh);
        FloatVector a30 = acc(p, q3, fresh), a31 = acc(p, q3 + L, fresh), a32 = acc(p, q3 + 2 * L, fresh), a33 = acc(p, q3 + 3 * L, fresh);
        FloatVector a40 = acc(p, q4, fresh), a41 = acc(p, q4 + L, fresh), a42 = acc(p, q4 + 2 * L, fresh), a43 = acc(p, q4 + 3 * L, fresh);
        FloatVector a50 = acc(p, q5, fresh), a51 = acc(p, q5 + L, fresh), a52 = acc(p, q5 + 2 * L, fresh), a53 = acc(p, q5 + 3 * L, fresh);
        for (int k = 0; k < PKC; k++) {
            int xk = xo + k * PV * L, wk = wo + k;
            FloatVector x0 = FloatVector.fromArray(F, xt, xk), x1 = FloatVector.fromArray(F, xt, xk + L);
            FloatVector x2 = FloatVector.fromArray(F, xt, xk + 2 * L), x3 = FloatVector.fromArray(F, xt, xk + 3 * L);
            FloatVector v = FloatVector.broadcast(F, wp[wk]);
            a00 = v.fma(x0, a00); a01 = v.fma(x1, a01); a02 = v.fma(x2, a02); a03 = v.fma(x3, a03);
            v = FloatVector.broadcast(F, wp[wk + PKC]);
            a10 = v.fma(x0, a10); a11 = v.fma(x1, a11); a12 = v.fma(x2, a12); a13 = v.fma(x3, a13);
            v = FloatVector.broadcast(F, wp[wk + 2 * PKC]);
            a20 = v.fma(x0, a20); a21 = v.fma(x1, a21); a22 = v.fma(x2, a22); a23 = v.fma(x3, a23);
            v = FloatVector.broadcast(F, wp[wk + 3 * PKC]);
            a30 = v.fma(x0, a30); a31 = v.fma(x1, a31); a32 = v.fma(x2, a32); a33 = v.fma(x3, a33);
            v = FloatVector.broadcast(F, wp[wk + 4 * PKC]);
            a40 = v.fma(x0, a40); a41 = v.fma(x1, a41); a42 = v.fma(x2, a42); a43 = v.fma(x3, a43);
            v = FloatVector.broadcast(F, wp[wk + 5 * PKC]);
            a50 = v.fma(x0, a50); a51 = v.fma(x1, a51); a52 = v.fma(x2, a52); a53 = v.fma(x3, a53);
        }
        a00.intoArray(p, po); a01.intoArray(p, po + L); a02.intoArray(p, po + 2 * L); a03.intoArray(p, po + 3 * L);
        a10.intoArray(p, q1); a11.intoArray(p, q1 + L); a12.intoArray(p, q1 + 2 * L); a13.intoArray(p, q1 + 3 * L);
        a20.intoArray(p, q2); a21.intoArray(p, q2 + L); a22.intoArray(p, q2 + 2 * L); a23.intoArray(p, q2 + 3 * L);
        a30.intoArray(p, q3); a31.intoArray(p, q3 + L); a32.intoArray(p, q3 + 2 * L); a33.intoArray(p, q3 + 3 * L);
        a40.intoArray(p, q4); a41.intoArray(p, q4 + L); a42.intoArray(p, q4 + 2 * L); a43.intoArray(p, q4 + 3 * L);
        a50.intoArray(p, q5); a51.intoArray(p, q5 + L); a52.intoArray(p, q5 + 2 * L); a53.intoArray(p, q5 + 3 * L);
    }

    /**
     * {@link #promptTile} for one vector of tokens, at {@code xo} of {@code xt} and {@code xs}
     * floats apart from one column to the next: for a last group of a few tokens.
     */
    private static void promptTileVector(float[] wp, int wo, float[] xt, int xo, int xs, float[] p, int po, int ps, boolean fresh) {
        int q1 = po + ps, q2 = q1 + ps, q3 = q2 + ps, q4 = q3 + ps, q5 = q4 + ps;
        FloatVector a0 = acc(p, po, fresh), a1 = acc(p, q1, fresh), a2 = acc(p, q2, fresh), a3 = acc(p, q3, fresh), a4 = acc(p, q4, fresh), a5 = acc(p, q5, fresh);
        for (int k = 0; k < PKC; k++) {
            int wk = wo + k;
            FloatVector x0 = FloatVector.fromArray(F, xt, xo + k * xs);
            a0 = FloatVector.broadcast(F, wp[wk]).fma(x0, a0);
            a1 = FloatVector.broadcast(F, wp[wk + PKC]).fma(x0, a1);
            a2 = FloatVector.broadcast(F, wp[wk + 2 * PKC]).fma(x0, a2);
            a3 = FloatVector.broadcast(F, wp[wk + 3 * PKC]).fma(x0, a3);
            a4 = FloatVector.broadcast(F, wp[wk + 4 * PKC]).fma(x0, a4);
            a5 = FloatVector.broadcast(F, wp[wk + 5 * PKC]).fma(x0, a5);
        }
        a0.intoArray(p, po);
        a1.intoArray(p, q1);
        a2.intoArray(p, q2);
        a3.intoArray(p, q3);
        a4.intoArray(p, q4);
        a5.intoArray(p, q5);
    }

    /**
     * {@link #matmul} for a few tokens (a batch of decoded sequences): a tile of 2 rows x 4
     * tokens x both accumulators, reading the weights where they lie, x as laid out by
     * {@link #bf16Input}. Below {@link #PACKED_TOKENS} tokens, widening the rows into packed
     * blocks costs more than the products it speeds up.
     */
    private static void matmulFew(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1) {
        long rowBytes = (long) cols * dtype.bytes();
        int main = main(dtype, cols);
        int group = (tokens + FT - 1) / FT * FT;
        // floats of partial accumulators per row of a block: two vectors per token of the group
        int ps = group * 2 * L;
        Scratch s = Scratch.of(MC * ps, 0, 0);
        MemorySegment widened = dtype == DType.F16 ? s.widened(4L * MC * KC) : MemorySegment.NULL;
        float[] p = s.partials, half = new float[2 * L];
        for (int rb = r0; rb < r1; rb += MC) {
            int nr = Math.min(MC, r1 - rb);
            for (int tg = 0; tg < tokens; tg += group) {
                int te = Math.min(tokens, tg + group);
                java.util.Arrays.fill(p, 0, (nr + 1) / 2 * 2 * ps, 0f);
                for (int cb = 0; cb < main; cb += KC) {
                    int n = Math.min(KC, main - cb);
                    if (dtype == DType.F16) widenF16(w, rowBytes, rows, rb, nr, cb, n, widened);
                    for (int t = tg; t < te; t += FT) {
                        int x0 = t * cols + cb, x1 = Math.min(t + 1, te - 1) * cols + cb, x2 = Math.min(t + 2, te - 1) * cols + cb;
                        int x3 = Math.min(t + 3, te - 1) * cols + cb;
                        int po = (t - tg) * 2 * L;
                        for (int i = 0; i < nr; i += FR, po += FR * ps) {
                            switch (dtype) {
                                // past the last row the pair repeats it; those results are not stored
                                case F32, BF16 -> {
                                    long w0 = (rb + i) * rowBytes + (long) cb * dtype.bytes();
                                    long w1 = Math.min(rb + i + 1, rows - 1) * rowBytes + (long) cb * dtype.bytes();
                                    if (dtype == DType.F32) microF32(w, w0, w1, n, x, x0, x1, x2, x3, p, po, ps);
                                    else microBf16(w, w0, w1, n, x, x0, x1, x2, x3, p, po, ps);
                                }
                                case F16 -> microF32(widened, 4L * i * KC, 4L * (i + 1) * KC, n, x, x0, x1, x2, x3, p, po, ps);
                            }
                        }
                    }
                }
                storeSums(dtype, w, rowBytes, cols, main, x, p, 0, ps, out, rows, rb, nr, tg, tg, te, half);
            }
        }
    }

    /**
     * Rows {@code [rb, rb + nr)} of an F16 matrix, columns {@code [cb, cb + n)}, widened to float32
     * into {@code dst} at {@code KC} floats per row, plus the last row repeated when {@code nr} is
     * odd: widening costs more than the products, so each block is widened once for all tokens.
     */
    private static void widenF16(MemorySegment w, long rowBytes, int rows, int rb, int nr, int cb, int n, MemorySegment dst) {
        for (int i = 0; i < (nr + 1) / 2 * 2; i++) {
            long src = Math.min(rb + i, rows - 1) * rowBytes + 2L * cb, to = 4L * i * KC;
            int c = 0;
            for (; c <= n - L; c += L) f16(w, src + 2L * c).intoMemorySegment(dst, to + 4L * c, LE);
            for (; c < n; c++) dst.set(F32, to + 4L * c, Float.float16ToFloat(w.get(U16, src + 2L * c)));
        }
    }

    /**
     * Rows {@code w0, w1} (F32 rows) by the 4 tokens at {@code x0..x3} over {@code n} columns,
     * continuing the accumulators kept in {@code p}: row {@code i}, token {@code j}, accumulator {@code k}
     * at {@code po + i ps + 2L j + L k}, chunk {@code m} of the columns going to accumulator {@code m % 2}.
     */
    private static void microF32(MemorySegment w, long w0, long w1, int n, float[] x, int x0, int x1, int x2, int x3, float[] p, int po, int ps) {
        FloatVector a00e = FloatVector.fromArray(F, p, po);
        FloatVector a00o = FloatVector.fromArray(F, p, po + L);
        FloatVector a01e = FloatVector.fromArray(F, p, po + 2 * L);
        FloatVector a01o = FloatVector.fromArray(F, p, po + 3 * L);
        FloatVector a02e = FloatVector.fromArray(F, p, po + 4 * L);
        FloatVector a02o = FloatVector.fromArray(F, p, po + 5 * L);
        FloatVector a03e = FloatVector.fromArray(F, p, po + 6 * L);
        FloatVector a03o = FloatVector.fromArray(F, p, po + 7 * L);
        FloatVector a10e = FloatVector.fromArray(F, p, po + ps);
        FloatVector a10o = FloatVector.fromArray(F, p, po + ps + L);
        FloatVector a11e = FloatVector.fromArray(F, p, po + ps + 2 * L);
        FloatVector a11o = FloatVector.fromArray(F, p, po + ps + 3 * L);
        FloatVector a12e = FloatVector.fromArray(F, p, po + ps + 4 * L);
        FloatVector a12o = FloatVector.fromArray(F, p, po + ps + 5 * L);
        FloatVector a13e = FloatVector.fromArray(F, p, po + ps + 6 * L);
        FloatVector a13o = FloatVector.fromArray(F, p, po + ps + 7 * L);
        int c = 0;
        for (; c < n - L; c += 2 * L) {
            long o = 4L * c;
            FloatVector e = FloatVector.fromMemorySegment(F, w, w0 + o, LE), f = FloatVector.fromMemorySegment(F, w, w1 + o, LE), v;
            v = FloatVector.fromArray(F, x, x0 + c);
            a00e = e.fma(v, a00e);
            a10e = f.fma(v, a10e);
            v = FloatVector.fromArray(F, x, x1 + c);
            a01e = e.fma(v, a01e);
            a11e = f.fma(v, a11e);
            v = FloatVector.fromArray(F, x, x2 + c);
            a02e = e.fma(v, a02e);
            a12e = f.fma(v, a12e);
            v = FloatVector.fromArray(F, x, x3 + c);
            a03e = e.fma(v, a03e);
            a13e = f.fma(v, a13e);
            e = FloatVector.fromMemorySegment(F, w, w0 + o + 4L * L, LE);
            f = FloatVector.fromMemorySegment(F, w, w1 + o + 4L * L, LE);
            v = FloatVector.fromArray(F, x, x0 + c + L);
            a00o = e.fma(v, a00o);
            a10o = f.fma(v, a10o);
            v = FloatVector.fromArray(F, x, x1 + c + L);
            a01o = e.fma(v, a01o);
            a11o = f.fma(v, a11o);
            v = FloatVector.fromArray(F, x, x2 + c + L);
            a02o = e.fma(v, a02o);
            a12o = f.fma(v, a12o);
            v = FloatVector.fromArray(F, x, x3 + c + L);
            a03o = e.fma(v, a03o);
            a13o = f.fma(v, a13o);
        }
        if (c < n) {
            FloatVector e = FloatVector.fromMemorySegment(F, w, w0 + 4L * c, LE), f = FloatVector.fromMemorySegment(F, w, w1 + 4L * c, LE), v;
            v = FloatVector.fromArray(F, x, x0 + c);
            a00e = e.fma(v, a00e);
            a10e = f.fma(v, a10e);
            v = FloatVector.fromArray(F, x, x1 + c);
            a01e = e.fma(v, a01e);
            a11e = f.fma(v, a11e);
            v = FloatVector.fromArray(F, x, x2 + c);
            a02e = e.fma(v, a02e);
            a12e = f.fma(v, a12e);
            v = FloatVector.fromArray(F, x, x3 + c);
            a03e = e.fma(v, a03e);
            a13e = f.fma(v, a13e);
        }
        a00e.intoArray(p, po);
        a00o.intoArray(p, po + L);
        a01e.intoArray(p, po + 2 * L);
        a01o.intoArray(p, po + 3 * L);
        a02e.intoArray(p, po + 4 * L);
        a02o.intoArray(p, po + 5 * L);
        a03e.intoArray(p, po + 6 * L);
        a03o.intoArray(p, po + 7 * L);
        a10e.intoArray(p, po + ps);
        a10o.intoArray(p, po + ps + L);
        a11e.intoArray(p, po + ps + 2 * L);
        a11o.intoArray(p, po + ps + 3 * L);
        a12e.intoArray(p, po + ps + 4 * L);
        a12o.intoArray(p, po + ps + 5 * L);
        a13e.intoArray(p, po + ps + 6 * L);
        a13o.intoArray(p, po + ps + 7 * L);
    }

    /**
     * Rows {@code w0, w1} (BF16 rows (words of an even and an odd column, x laid out by {@link #bf16Input})) by the 4 tokens at {@code x0..x3} over {@code n} columns,
     * continuing the accumulators kept in {@code p}: row {@code i}, token {@code j}, accumulator {@code k}
     * at {@code po + i ps + 2L j + L k}, chunk {@code m} of the columns going to accumulator {@code m % 2}.
     */
    private static void microBf16(MemorySegment w, long w0, long w1, int n, float[] x, int x0, int x1, int x2, int x3, float[] p, int po, int ps) {
        FloatVector a00e = FloatVector.fromArray(F, p, po);
        FloatVector a00o = FloatVector.fromArray(F, p, po + L);
        FloatVector a01e = FloatVector.fromArray(F, p, po + 2 * L);
        FloatVector a01o = FloatVector.fromArray(F, p, po + 3 * L);
        FloatVector a02e = FloatVector.fromArray(F, p, po + 4 * L);
        FloatVector a02o = FloatVector.fromArray(F, p, po + 5 * L);
        FloatVector a03e = FloatVector.fromArray(F, p, po + 6 * L);
        FloatVector a03o = FloatVector.fromArray(F, p, po + 7 * L);
        FloatVector a10e = FloatVector.fromArray(F, p, po + ps);
        FloatVector a10o = FloatVector.fromArray(F, p, po + ps + L);
        FloatVector a11e = FloatVector.fromArray(F, p, po + ps + 2 * L);
        FloatVector a11o = FloatVector.fromArray(F, p, po + ps + 3 * L);
        FloatVector a12e = FloatVector.fromArray(F, p, po + ps + 4 * L);
        FloatVector a12o = FloatVector.fromArray(F, p, po + ps + 5 * L);
        FloatVector a13e = FloatVector.fromArray(F, p, po + ps + 6 * L);
        FloatVector a13o = FloatVector.fromArray(F, p, po + ps + 7 * L);
        for (int c = 0; c < n; c += 2 * L) {
            long o = 2L * c;
            FloatVector e = even(IntVector.fromMemorySegment(I, w, w0 + o, LE)), f = even(IntVector.fromMemorySegment(I, w, w1 + o, LE)), v;
            v = FloatVector.fromArray(F, x, x0 + c);
            a00e = e.fma(v, a00e);
            a10e = f.fma(v, a10e);
            v = FloatVector.fromArray(F, x, x1 + c);
            a01e = e.fma(v, a01e);
            a11e = f.fma(v, a11e);
            v = FloatVector.fromArray(F, x, x2 + c);
            a02e = e.fma(v, a02e);
            a12e = f.fma(v, a12e);
            v = FloatVector.fromArray(F, x, x3 + c);
            a03e = e.fma(v, a03e);
            a13e = f.fma(v, a13e);
            // loaded again rather than kept: two more live registers spill the accumulators
            e = odd(IntVector.fromMemorySegment(I, w, w0 + o, LE));
            f = odd(IntVector.fromMemorySegment(I, w, w1 + o, LE));
            v = FloatVector.fromArray(F, x, x0 + c + L);
            a00o = e.fma(v, a00o);
            a10o = f.fma(v, a10o);
            v = FloatVector.fromArray(F, x, x1 + c + L);
            a01o = e.fma(v, a01o);
            a11o = f.fma(v, a11o);
            v = FloatVector.fromArray(F, x, x2 + c + L);
            a02o = e.fma(v, a02o);
            a12o = f.fma(v, a12o);
            v = FloatVector.fromArray(F, x, x3 + c + L);
            a03o = e.fma(v, a03o);
            a13o = f.fma(v, a13o);
        }
        a00e.intoArray(p, po);
        a00o.intoArray(p, po + L);
        a01e.intoArray(p, po + 2 * L);
        a01o.intoArray(p, po + 3 * L);
        a02e.intoArray(p, po + 4 * L);
        a02o.intoArray(p, po + 5 * L);
        a03e.intoArray(p, po + 6 * L);
        a03o.intoArray(p, po + 7 * L);
        a10e.intoArray(p, po + ps);
        a10o.intoArray(p, po + ps + L);
        a11e.intoArray(p, po + ps + 2 * L);
        a11o.intoArray(p, po + ps + 3 * L);
        a12e.intoArray(p, po + ps + 4 * L);
        a12o.intoArray(p, po + ps + 5 * L);
        a13e.intoArray(p, po + ps + 6 * L);
        a13o.intoArray(p, po + ps + 7 * L);
    }


    /**
     * Tokens {@code [tg, te)} of x, their first {@code main} columns, as float32 into {@code dst}
     * for {@link #micro}: per T tokens (the last token repeated past {@code te}), each chunk
     * {@code j} of the reduction order as T vectors of L floats, one per token, at
     * {@code (j T + i) L} past element {@code start}. The T vectors of a chunk then share
     * cache lines, and the block the tile reuses lies in one piece that stays in L1.
     */
    private static float[] packInput(DType dtype, float[] x, int cols, int main, int tg, int te, float[] dst, int start) {
        int chunks = main / L;
        for (int t = tg; t < tg + (te - tg + T - 1) / T * T; t++) {
            int o = Math.min(t, te - 1) * cols, to = start + ((t - tg) / T * chunks * T + (t - tg) % T) * L;
            if (dtype == DType.BF16) {
                // chunks j and j + 1 (j even): the even, then the odd columns of the block of 2L columns j / 2
                for (int j = 0; j < chunks; j += 2, to += 2 * T * L) splitPair(x, o + j * L, dst, to, to + T * L);
            } else {
                for (int j = 0; j < chunks; j++, to += T * L) System.arraycopy(x, o + j * L, dst, to, L);
            }
        }
        return dst;
    }

    /**
     * Rows {@code [rb, rb + nr)} of the matrix, columns {@code [cb, cb + n)} (whole chunks, cb a
     * multiple of 2L), as float32 into {@code dst} from element {@code start} for
     * {@link #micro}: per R rows (the last row repeated past the end), {@code KC * R} floats
     * holding the block's even chunks, then its odd ones, each chunk as R vectors of L floats,
     * one per row. Widening here, once per block, costs one pass for all the tokens that then read
     * the block. Rows in a block format are first decoded by {@code decoder}, as
     * {@link QuantKernel}'s own products decode them.
     */
    private static void packRows(DType dtype, MemorySegment w, long rowBytes, int rows, int rb, int nr, int cb, int n, float[] dst, int start, QuantKernel.RowDecoder decoder) {
        int chunks = n / L, even = (chunks + 1) / 2;
        for (int i = 0; i < (nr + R - 1) / R * R; i++) {
            long src = Math.min(rb + i, rows - 1) * rowBytes + dtype.bytesOf(cb);
            int base = start + i / R * R * KC + i % R * L;
            int evenAt = base, oddAt = base + R * L * even, step = R * L;
            switch (dtype) {
                case F32 -> {
                    for (int j = 0; j < chunks; j += 2, evenAt += step, oddAt += step) {
                        FloatVector.fromMemorySegment(F, w, src + 4L * j * L, LE).intoArray(dst, evenAt);
                        if (j + 1 < chunks) FloatVector.fromMemorySegment(F, w, src + 4L * (j + 1) * L, LE).intoArray(dst, oddAt);
                    }
                }
                case BF16 -> {
                    for (int j = 0; j < chunks; j += 2, evenAt += step, oddAt += step) {
                        IntVector q = IntVector.fromMemorySegment(I, w, src + 2L * j * L, LE);
                        even(q).intoArray(dst, evenAt);
                        odd(q).intoArray(dst, oddAt);
                    }
                }
                case F16 -> {
                    for (int j = 0; j < chunks; j += 2, evenAt += step, oddAt += step) {
                        f16(w, src + 2L * j * L).intoArray(dst, evenAt);
                        if (j + 1 < chunks) f16(w, src + 2L * (j + 1) * L).intoArray(dst, oddAt);
                    }
                }
                default -> {
                    float[] decoded = decoder.decode(dtype, w, src, n);
                    for (int j = 0; j < chunks; j += 2, evenAt += step, oddAt += step) {
                        FloatVector.fromArray(F, decoded, j * L).intoArray(dst, evenAt);
                        if (j + 1 < chunks) FloatVector.fromArray(F, decoded, (j + 1) * L).intoArray(dst, oddAt);
                    }
                }
            }
        }
    }

    /**
     * {@code m} chunks of one parity (none is allowed): R rows packed by {@link #packRows} from
     * element {@code wo} of {@code wp} (R vectors per chunk) by 6 tokens whose first chunks lie
     * one after another from element {@code xo} of {@code xp} (laid out by {@link #packInput};
     * their next chunk of the same parity 2T vectors further), continuing the accumulators kept
     * in {@code p}, or starting them from zero when {@code fresh}: row {@code i}, token {@code j}
     * at {@code po + i ps + 2L j}.
     * Each product is a dot product along the columns, so every FMA takes a vector of weights and
     * a vector of x, and 24 accumulators reuse 4 loads of weights and 6 of x.
     */
    private static void micro(float[] wp, int wo, int m, float[] xp, int xo, float[] p, int po, int ps, boolean fresh) {
        int q = po + ps, r = q + ps, u = r + ps;
        FloatVector a00 = acc(p, po, fresh), a01 = acc(p, po + 2 * L, fresh), a02 = acc(p, po + 4 * L, fresh);
        FloatVector a03 = acc(p, po + 6 * L, fresh), a04 = acc(p, po + 8 * L, fresh), a05 = acc(p, po + 10 * L, fresh);
        FloatVector a10 = acc(p, q, fresh), a11 = acc(p, q + 2 * L, fresh), a12 = acc(p, q + 4 * L, fresh);
        FloatVector a13 = acc(p, q + 6 * L, fresh), a14 = acc(p, q + 8 * L, fresh), a15 = acc(p, q + 10 * L, fresh);
        FloatVector a20 = acc(p, r, fresh), a21 = acc(p, r + 2 * L, fresh), a22 = acc(p, r + 4 * L, fresh);
        FloatVector a23 = acc(p, r + 6 * L, fresh), a24 = acc(p, r + 8 * L, fresh), a25 = acc(p, r + 10 * L, fresh);
        FloatVector a30 = acc(p, u, fresh), a31 = acc(p, u + 2 * L, fresh), a32 = acc(p, u + 4 * L, fresh);
        FloatVector a33 = acc(p, u + 6 * L, fresh), a34 = acc(p, u + 8 * L, fresh), a35 = acc(p, u + 10 * L, fresh);
        for (int k = 0; k < m; k++) {
            // offsets written from k itself, so that C2 proves them in bounds once per loop
            int xk = xo + k * 2 * T * L, wk = wo + k * R * L;
            FloatVector w0 = FloatVector.fromArray(F, wp, wk), w1 = FloatVector.fromArray(F, wp, wk + L);
            FloatVector w2 = FloatVector.fromArray(F, wp, wk + 2 * L), w3 = FloatVector.fromArray(F, wp, wk + 3 * L);
            FloatVector v = FloatVector.fromArray(F, xp, xk);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            a20 = w2.fma(v, a20);
            a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, xp, xk + L);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            a21 = w2.fma(v, a21);
            a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, xp, xk + 2 * L);
            a02 = w0.fma(v, a02);
            a12 = w1.fma(v, a12);
            a22 = w2.fma(v, a22);
            a32 = w3.fma(v, a32);
            v = FloatVector.fromArray(F, xp, xk + 3 * L);
            a03 = w0.fma(v, a03);
            a13 = w1.fma(v, a13);
            a23 = w2.fma(v, a23);
            a33 = w3.fma(v, a33);
            v = FloatVector.fromArray(F, xp, xk + 4 * L);
            a04 = w0.fma(v, a04);
            a14 = w1.fma(v, a14);
            a24 = w2.fma(v, a24);
            a34 = w3.fma(v, a34);
            v = FloatVector.fromArray(F, xp, xk + 5 * L);
            a05 = w0.fma(v, a05);
            a15 = w1.fma(v, a15);
            a25 = w2.fma(v, a25);
            a35 = w3.fma(v, a35);
        }
        a00.intoArray(p, po);
        a01.intoArray(p, po + 2 * L);
        a02.intoArray(p, po + 4 * L);
        a03.intoArray(p, po + 6 * L);
        a04.intoArray(p, po + 8 * L);
        a05.intoArray(p, po + 10 * L);
        a10.intoArray(p, q);
        a11.intoArray(p, q + 2 * L);
        a12.intoArray(p, q + 4 * L);
        a13.intoArray(p, q + 6 * L);
        a14.intoArray(p, q + 8 * L);
        a15.intoArray(p, q + 10 * L);
        a20.intoArray(p, r);
        a21.intoArray(p, r + 2 * L);
        a22.intoArray(p, r + 4 * L);
        a23.intoArray(p, r + 6 * L);
        a24.intoArray(p, r + 8 * L);
        a25.intoArray(p, r + 10 * L);
        a30.intoArray(p, u);
        a31.intoArray(p, u + 2 * L);
        a32.intoArray(p, u + 4 * L);
        a33.intoArray(p, u + 6 * L);
        a34.intoArray(p, u + 8 * L);
        a35.intoArray(p, u + 10 * L);
    }

    /** The accumulator kept at {@code p[at..at + L)}, or zero when the tile starts afresh. */
    private static FloatVector acc(float[] p, int at, boolean fresh) {
        return fresh ? FloatVector.zero(F) : FloatVector.fromArray(F, p, at);
    }

    /**
     * {@link #combine} of L rows at once, {@code ps} floats apart from {@code p[at]}, into
     * {@code out[o..o + L)}: lane i is row i's result, bit for bit, since each step adds the same
     * pairs {@link #sum}'s tree adds, only for several rows in one vector ({@link #halve}): 2
     * permutations and an addition per step and pair of vectors, where {@code combine} takes a
     * permutation and an addition per step and row. {@code half} holds 2L floats between steps.
     */
    private static void combineRows(float[] p, int at, int ps, float[] out, int o, float[] half) {
        if (L < 16) {
            combineEight(p, at, ps, out, o);
            return;
        }
        // two calls of eight rows each: one of sixteen grows past the size C2 inlines into one
        // method, and a vector returned from a call it does not inline is boxed on the heap
        combineEight(p, at, ps, half, 0);
        combineEight(p, at + 8 * ps, ps, half, L);
        halve(FloatVector.fromArray(F, half, 0), FloatVector.fromArray(F, half, L), 2).intoArray(out, o);
    }

    /**
     * The first {@code min(8, L)} of the rows of {@link #combineRows}, each reduced to
     * {@code L / min(8, L)} lanes (to its result when {@code L <= 8}), into {@code dst[o..o + L)}.
     */
    private static void combineEight(float[] p, int at, int ps, float[] dst, int o) {
        FloatVector s = halve(halve(row(p, at), row(p, at + ps), L), halve(row(p, at + 2 * ps), row(p, at + 3 * ps), L), L / 2);
        if (L >= 8) {
            FloatVector t = halve(halve(row(p, at + 4 * ps), row(p, at + 5 * ps), L), halve(row(p, at + 6 * ps), row(p, at + 7 * ps), L), L / 2);
            s = halve(s, t, L / 4);
        }
        s.intoArray(dst, o);
    }

    /** {@code a0.add(a1)}, the two accumulators of one result stored at {@code p[at..at + 2L)}. */
    private static FloatVector row(float[] p, int at) {
        return FloatVector.fromArray(F, p, at).add(FloatVector.fromArray(F, p, at + L));
    }

    /**
     * One level of {@link #sum}'s tree for the rows of two vectors, each row in a block of
     * {@code b} lanes: every block's first half plus its second half, {@code x}'s rows then
     * {@code y}'s, each now in {@code b / 2} lanes.
     */
    private static FloatVector halve(FloatVector x, FloatVector y, int b) {
        FloatVector first = b == 16 ? FIRST16 : b == 8 ? FIRST8 : b == 4 ? FIRST4 : FIRST2;
        FloatVector second = b == 16 ? SECOND16 : b == 8 ? SECOND8 : b == 4 ? SECOND4 : SECOND2;
        return first.selectFrom(x, y).add(second.selectFrom(x, y));
    }

    /** {@code sum(a0.add(a1))} of the two accumulators stored at {@code p[at..at + 2L)}. */
    private static float combine(float[] p, int at) {
        return sum(row(p, at));
    }

    @Override
    public void geluErf(float[] x, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector u = v.mul(SQRT_HALF).max(-4f).min(4f), u2 = u.mul(u);
            FloatVector p = FloatVector.broadcast(F, ERF_P[0]), q = FloatVector.broadcast(F, ERF_Q[0]);
            for (int k = 1; k < ERF_P.length; k++) p = p.fma(u2, FloatVector.broadcast(F, ERF_P[k]));
            for (int k = 1; k < ERF_Q.length; k++) q = q.fma(u2, FloatVector.broadcast(F, ERF_Q[k]));
            FloatVector h = v.mul(0.5f);
            h.fma(u.mul(p).div(q), h).intoArray(x, i);
        }
        for (; i < to; i++) {
            float u = Math.min(Math.max(x[i] * SQRT_HALF, -4f), 4f), u2 = u * u;
            float p = ERF_P[0], q = ERF_Q[0];
            for (int k = 1; k < ERF_P.length; k++) p = Math.fma(p, u2, ERF_P[k]);
            for (int k = 1; k < ERF_Q.length; k++) q = Math.fma(q, u2, ERF_Q[k]);
            float h = x[i] * 0.5f;
            x[i] = Math.fma(h, u * p / q, h);
        }
    }

    @Override
    public void geluTanh(float[] x, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            // 0.5 (1 + tanh z) = 1 / (1 + exp(-2 z))
            FloatVector t = v.mul(v).mul(v).fma(FloatVector.broadcast(F, GELU_CUBIC), v).mul(-2 * SQRT_2_OVER_PI);
            v.div(exp(t).add(1f)).intoArray(x, i);
        }
        for (; i < to; i++) {
            float v = x[i];
            x[i] = v / (exp(Math.fma(v * v * v, GELU_CUBIC, v) * (-2 * SQRT_2_OVER_PI)) + 1f);
        }
    }

    @Override
    public void softcap(float[] x, int from, int to, float cap) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i), u = v.div(cap).abs();
            FloatVector t = exp(u.mul(-2f)), u2 = u.mul(u);
            // near zero 1 - t loses the digits of tanh u; the series is exact to float there
            FloatVector series = u2.fma(TANH_P[0], TANH_P[1]).fma(u2, FloatVector.broadcast(F, TANH_P[2])).fma(u2, FloatVector.broadcast(F, TANH_P[3])).mul(u);
            FloatVector tanh = FloatVector.broadcast(F, 1f).sub(t).div(t.add(1f)).blend(series, u.compare(LT, TANH_SERIES));
            FloatVector y = tanh.mul(cap);
            y.reinterpretAsInts().or(v.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats().intoArray(x, i);
        }
        for (; i < to; i++) {
            float u = Math.abs(x[i] / cap), t = exp(u * -2f), u2 = u * u;
            float tanh = u < TANH_SERIES ? Math.fma(Math.fma(Math.fma(u2, TANH_P[0], TANH_P[1]), u2, TANH_P[2]), u2, TANH_P[3]) * u : (1f - t) / (t + 1f);
            x[i] = Math.copySign(tanh * cap, x[i]);
        }
    }

    @Override
    public void expShifted(float[] x, int from, int to, float shift) {
        int i = from;
        for (; i <= to - L; i += L) exp(FloatVector.fromArray(F, x, i).sub(shift)).intoArray(x, i);
        for (; i < to; i++) x[i] = exp(x[i] - shift);
    }

    /** exp(t), to about 2e-7 relative, for t clamped to [{@link #EXP_MIN}, {@link #EXP_MAX}]: Cephes' expf lane by lane. */
    private static FloatVector exp(FloatVector x) {
        FloatVector t = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector n = t.fma(LOG2E, ROUNDER).sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), t).add(n.mul(LN2_LO));
        FloatVector p = FloatVector.broadcast(F, EXP_P[0]);
        for (int k = 1; k < EXP_P.length; k++) p = p.fma(r, FloatVector.broadcast(F, EXP_P[k]));
        FloatVector scale = ((IntVector) n.convert(F2I, 0)).add(127).lanewise(LSHL, 23).reinterpretAsFloats();
        return p.fma(r.mul(r), r).add(1f).mul(scale);
    }

    /** {@link #exp(FloatVector)} for one value, with the same operations. */
    private static float exp(float x) {
        float t = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float n = Math.fma(t, LOG2E, ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, t) + n * LN2_LO;
        float p = EXP_P[0];
        for (int k = 1; k < EXP_P.length; k++) p = Math.fma(p, r, EXP_P[k]);
        return (Math.fma(p, r * r, r) + 1f) * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        int main = n - n % (2 * L);
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        for (int i = 0; i < main; i += 2 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
        }
        float s = sum(s0.add(s1));
        for (int i = main; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int main = n - n % L;
        FloatVector av = FloatVector.broadcast(F, alpha);
        for (int i = 0; i < main; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (int i = main; i < n; i++) y[yo + i] = Math.fma(x[xo + i], alpha, y[yo + i]);
    }

    /** The even column of each word of BF16 pairs: the low half moved up. */
    private static FloatVector even(IntVector pairs) {
        return pairs.lanewise(LSHL, 16).reinterpretAsFloats();
    }

    /** The odd column of each word of BF16 pairs: the high half, low bits cleared. */
    private static FloatVector odd(IntVector pairs) {
        return pairs.and(0xffff0000).reinterpretAsFloats();
    }

    /**
     * {@code chunks} plus the {@link #tail} of the columns {@code [main, cols)}, when there are any
     * (adding a tail of 0 would turn a sum of -0 into +0 on some paths and not others).
     */
    private static float withTail(float chunks, DType dtype, MemorySegment w, long row, float[] x, int xo, int main, int cols) {
        return main == cols ? chunks : chunks + tail(dtype, w, row, x, xo, main, cols);
    }

    /** {@code sum_{c in [from, to)} W[c] * x[xo + c]} for the columns past the last full vector. */
    private static float tail(DType dtype, MemorySegment w, long row, float[] x, int xo, int from, int to) {
        float s = 0;
        for (int c = from; c < to; c++) {
            float v = switch (dtype) {
                case F32 -> w.get(F32, row + 4L * c);
                case BF16 -> Float.intBitsToFloat(w.get(U16, row + 2L * c) << 16);
                case F16 -> Float.float16ToFloat(w.get(U16, row + 2L * c));
                default -> throw new IllegalArgumentException(dtype + " products run in QuantKernel");
            };
            s += v * x[xo + c];
        }
        return s;
    }

    /** L 16-bit values, sign-extended to int lanes. */
    private static IntVector widen(MemorySegment s, long at) {
        return (IntVector) ShortVector.fromMemorySegment(H, s, at, LE).convertShape(S2I, I, 0);
    }

    /**
     * IEEE half to float without branches (JDK 25 has no vector half conversion). Exponent and
     * mantissa move to float32 positions; multiplying by 2^112 rebiases the exponent (15 to 127)
     * and turns half subnormals into float normals exactly. Infinity and NaN (half exponent 31)
     * land at float exponent 143 and get the missing 112 added; the sign is copied last.
     */
    private static FloatVector f16(MemorySegment s, long at) {
        IntVector h = widen(s, at);
        IntVector mag = h.and(0x7fff).lanewise(LSHL, 13);
        IntVector bits = mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        // all ones exactly when mag >= 0x0f800000, i.e. the half exponent is 31
        IntVector special = mag.add(0x70800000).lanewise(ASHR, 31);
        return bits.add(special.and(0x38000000)).or(h.and(0x80000000)).reinterpretAsFloats();
    }
}
