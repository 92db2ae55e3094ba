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
 * tens of times slower. Hence one conversion per helper and no more than 4x4 accumulators.
 */
final class VectorKernel implements Kernel {
    private static final int BITS;
    /** float32 lanes of the chosen width. */
    private static final VectorSpecies<Float> F;
    private static final VectorSpecies<Integer> I;
    /** 16-bit lanes of half the width: one load widens to one float vector. */
    private static final VectorSpecies<Short> H;
    private static final int L;
    /** Rows (and tokens) per block: the 4x4 register tile. */
    private static final int B = 4;
    /** Lane rotations by 8, 4, 2 and 1 for {@link #sum}; those at or past the lane count are unused. */
    private static final VectorShuffle<Float> ROT8, ROT4, ROT2, ROT1;
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
    public float[] bf16Input(float[] x, int cols) {
        float[] split = new float[cols];
        int main = cols - cols % (2 * L);
        for (int b = 0; b < main; b += 2 * L) {
            for (int i = 0; i < L; i++) {
                split[b + i] = x[b + 2 * i];
                split[b + L + i] = x[b + 2 * i + 1];
            }
        }
        System.arraycopy(x, main, split, main, cols - main);
        return split;
    }

    @Override
    public void matvec(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int r0, int r1, boolean sequential) {
        long rowBytes = (long) cols * dtype.bytes();
        if (sequential) {
            for (int r = r0; r < r1; r++) out[r] = row(dtype, w, r * rowBytes, x, cols);
            return;
        }
        float[] acc = new float[B];
        for (int r = r0; r < r1; r += B) {
            // past the last row the block repeats it; those results are not stored
            long w0 = r * rowBytes, w1 = Math.min(r + 1, rows - 1) * rowBytes;
            long w2 = Math.min(r + 2, rows - 1) * rowBytes, w3 = Math.min(r + 3, rows - 1) * rowBytes;
            switch (dtype) {
                case F32 -> dotF32(w, w0, w1, w2, w3, x, cols, acc);
                case BF16 -> dotBf16(w, w0, w1, w2, w3, x, cols, acc);
                case F16 -> {
                    dotF16(w, w0, w1, x, cols, acc, 0);
                    dotF16(w, w2, w3, x, cols, acc, 2);
                }
            }
            for (int i = 0; i < Math.min(B, r1 - r); i++) out[r + i] = acc[i];
        }
    }

    /** One row's product with x, read front to back: faster than four rows at once while x stays in L1 beside the stream. */
    private static float row(DType dtype, MemorySegment w, long w0, float[] x, int n) {
        return switch (dtype) {
            case F32 -> rowF32(w, w0, x, n);
            case BF16 -> rowBf16(w, w0, x, n);
            case F16 -> rowF16(w, w0, x, n);
        };
    }

    private static float rowF32(MemorySegment w, long w0, float[] x, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= n - 4 * L; c += 4 * L) {
            long o = w0 + 4L * c;
            a0 = FloatVector.fromMemorySegment(F, w, o, LE).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = FloatVector.fromMemorySegment(F, w, o + 4L * L, LE).fma(FloatVector.fromArray(F, x, c + L), a1);
            a2 = FloatVector.fromMemorySegment(F, w, o + 8L * L, LE).fma(FloatVector.fromArray(F, x, c + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, w, o + 12L * L, LE).fma(FloatVector.fromArray(F, x, c + 3 * L), a3);
        }
        for (; c <= n - L; c += L) a0 = FloatVector.fromMemorySegment(F, w, w0 + 4L * c, LE).fma(FloatVector.fromArray(F, x, c), a0);
        return sum(a0.add(a1).add(a2.add(a3))) + tail(DType.F32, w, w0, x, 0, c, n);
    }

    /**
     * Each 32-bit word of a BF16 row holds an even column in its low half and the next odd one
     * in its high half, both already float32 bit patterns once moved to the top: shift one, mask
     * the other, and multiply by x split into even and odd columns ({@link #bf16Input}). No
     * widening conversion is needed.
     */
    private static float rowBf16(MemorySegment w, long w0, float[] x, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= n - 4 * L; c += 4 * L) {
            IntVector p = IntVector.fromMemorySegment(I, w, w0 + 2L * c, LE);
            IntVector q = IntVector.fromMemorySegment(I, w, w0 + 2L * c + 4L * L, LE);
            a0 = even(p).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = odd(p).fma(FloatVector.fromArray(F, x, c + L), a1);
            a2 = even(q).fma(FloatVector.fromArray(F, x, c + 2 * L), a2);
            a3 = odd(q).fma(FloatVector.fromArray(F, x, c + 3 * L), a3);
        }
        for (; c <= n - 2 * L; c += 2 * L) {
            IntVector p = IntVector.fromMemorySegment(I, w, w0 + 2L * c, LE);
            a0 = even(p).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = odd(p).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        return sum(a0.add(a1).add(a2.add(a3))) + tail(DType.BF16, w, w0, x, 0, c, n);
    }

    /** Two accumulators only: the conversion is too large for four in one method (see the class comment). */
    private static float rowF16(MemorySegment w, long w0, float[] x, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= n - 2 * L; c += 2 * L) {
            long o = w0 + 2L * c;
            a0 = f16(w, o).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = f16(w, o + 2L * L).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        if (c <= n - L) {
            a0 = f16(w, w0 + 2L * c).fma(FloatVector.fromArray(F, x, c), a0);
            c += L;
        }
        return sum(a0.add(a1)) + tail(DType.F16, w, w0, x, 0, c, n);
    }

    private static void dotF32(MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= n - L; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, c);
            long o = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, w1 + o, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, w, w2 + o, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, w, w3 + o, LE).fma(xv, a3);
        }
        acc[0] = sum(a0) + tail(DType.F32, w, w0, x, 0, c, n);
        acc[1] = sum(a1) + tail(DType.F32, w, w1, x, 0, c, n);
        acc[2] = sum(a2) + tail(DType.F32, w, w2, x, 0, c, n);
        acc[3] = sum(a3) + tail(DType.F32, w, w3, x, 0, c, n);
    }

    /** Four BF16 rows, each word split into its even and odd column as in {@link #rowBf16}. */
    private static void dotBf16(MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int n, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= n - 2 * L; c += 2 * L) {
            FloatVector xe = FloatVector.fromArray(F, x, c), xo = FloatVector.fromArray(F, x, c + L);
            long o = 2L * c;
            IntVector p = IntVector.fromMemorySegment(I, w, w0 + o, LE);
            a0 = odd(p).fma(xo, even(p).fma(xe, a0));
            p = IntVector.fromMemorySegment(I, w, w1 + o, LE);
            a1 = odd(p).fma(xo, even(p).fma(xe, a1));
            p = IntVector.fromMemorySegment(I, w, w2 + o, LE);
            a2 = odd(p).fma(xo, even(p).fma(xe, a2));
            p = IntVector.fromMemorySegment(I, w, w3 + o, LE);
            a3 = odd(p).fma(xo, even(p).fma(xe, a3));
        }
        acc[0] = sum(a0) + tail(DType.BF16, w, w0, x, 0, c, n);
        acc[1] = sum(a1) + tail(DType.BF16, w, w1, x, 0, c, n);
        acc[2] = sum(a2) + tail(DType.BF16, w, w2, x, 0, c, n);
        acc[3] = sum(a3) + tail(DType.BF16, w, w3, x, 0, c, n);
    }

    /** Two F16 rows into {@code acc[at], acc[at + 1]}: the conversion is too large for four in one method (see the class comment). */
    private static void dotF16(MemorySegment w, long w0, long w1, float[] x, int n, float[] acc, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= n - L; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, c);
            long o = 2L * c;
            a0 = f16(w, w0 + o).fma(xv, a0);
            a1 = f16(w, w1 + o).fma(xv, a1);
        }
        acc[at] = sum(a0) + tail(DType.F16, w, w0, x, 0, c, n);
        acc[at + 1] = sum(a1) + tail(DType.F16, w, w1, x, 0, c, n);
    }

    @Override
    public void matmul(DType dtype, MemorySegment w, int rows, int cols, float[] x, float[] out, int tokens, int r0, int r1) {
        long rowBytes = (long) cols * dtype.bytes();
        int main = cols - cols % L;
        float[] acc = new float[B * B];
        long[] at = new long[B];
        for (int r = r0; r < r1; r += B) {
            int n = Math.min(B, r1 - r);
            // past the last row (token) the block repeats it; those results are not stored
            for (int i = 0; i < B; i++) at[i] = Math.min(r + i, rows - 1) * rowBytes;
            for (int t = 0; t < tokens; t += B) {
                int m = Math.min(B, tokens - t);
                int x0 = t * cols, x1 = Math.min(t + 1, tokens - 1) * cols, x2 = Math.min(t + 2, tokens - 1) * cols, x3 = Math.min(t + 3, tokens - 1) * cols;
                switch (dtype) {
                    case F32 -> tileF32(w, at[0], at[1], at[2], at[3], x, x0, x1, x2, x3, main, acc);
                    case BF16 -> tileBf16(w, at[0], at[1], at[2], at[3], x, x0, x1, x2, x3, main, acc);
                    case F16 -> {
                        tileF16(w, at[0], at[1], x, x0, x1, x2, x3, main, acc, 0);
                        tileF16(w, at[2], at[3], x, x0, x1, x2, x3, main, acc, 8);
                    }
                }
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < m; j++) {
                        int xo = (t + j) * cols;
                        out[(t + j) * rows + r + i] = acc[B * i + j] + tail(dtype, w, at[i], x, xo, main, cols);
                    }
                }
            }
        }
    }

    private static void tileF32(MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int x0, int x1, int x2, int x3, int n, float[] acc) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + c);
            long o = 4L * c;
            FloatVector r = FloatVector.fromMemorySegment(F, w, w0 + o, LE);
            a00 = r.fma(v0, a00);
            a01 = r.fma(v1, a01);
            a02 = r.fma(v2, a02);
            a03 = r.fma(v3, a03);
            r = FloatVector.fromMemorySegment(F, w, w1 + o, LE);
            a10 = r.fma(v0, a10);
            a11 = r.fma(v1, a11);
            a12 = r.fma(v2, a12);
            a13 = r.fma(v3, a13);
            r = FloatVector.fromMemorySegment(F, w, w2 + o, LE);
            a20 = r.fma(v0, a20);
            a21 = r.fma(v1, a21);
            a22 = r.fma(v2, a22);
            a23 = r.fma(v3, a23);
            r = FloatVector.fromMemorySegment(F, w, w3 + o, LE);
            a30 = r.fma(v0, a30);
            a31 = r.fma(v1, a31);
            a32 = r.fma(v2, a32);
            a33 = r.fma(v3, a33);
        }
        acc[0] = sum(a00);
        acc[1] = sum(a01);
        acc[2] = sum(a02);
        acc[3] = sum(a03);
        acc[4] = sum(a10);
        acc[5] = sum(a11);
        acc[6] = sum(a12);
        acc[7] = sum(a13);
        acc[8] = sum(a20);
        acc[9] = sum(a21);
        acc[10] = sum(a22);
        acc[11] = sum(a23);
        acc[12] = sum(a30);
        acc[13] = sum(a31);
        acc[14] = sum(a32);
        acc[15] = sum(a33);
    }

    private static void tileBf16(MemorySegment w, long w0, long w1, long w2, long w3, float[] x, int x0, int x1, int x2, int x3, int n, float[] acc) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + c);
            long o = 2L * c;
            FloatVector r = bf16(w, w0 + o);
            a00 = r.fma(v0, a00);
            a01 = r.fma(v1, a01);
            a02 = r.fma(v2, a02);
            a03 = r.fma(v3, a03);
            r = bf16(w, w1 + o);
            a10 = r.fma(v0, a10);
            a11 = r.fma(v1, a11);
            a12 = r.fma(v2, a12);
            a13 = r.fma(v3, a13);
            r = bf16(w, w2 + o);
            a20 = r.fma(v0, a20);
            a21 = r.fma(v1, a21);
            a22 = r.fma(v2, a22);
            a23 = r.fma(v3, a23);
            r = bf16(w, w3 + o);
            a30 = r.fma(v0, a30);
            a31 = r.fma(v1, a31);
            a32 = r.fma(v2, a32);
            a33 = r.fma(v3, a33);
        }
        acc[0] = sum(a00);
        acc[1] = sum(a01);
        acc[2] = sum(a02);
        acc[3] = sum(a03);
        acc[4] = sum(a10);
        acc[5] = sum(a11);
        acc[6] = sum(a12);
        acc[7] = sum(a13);
        acc[8] = sum(a20);
        acc[9] = sum(a21);
        acc[10] = sum(a22);
        acc[11] = sum(a23);
        acc[12] = sum(a30);
        acc[13] = sum(a31);
        acc[14] = sum(a32);
        acc[15] = sum(a33);
    }

    /** Two F16 rows by four tokens, into {@code acc[at .. at + 8)}. */
    private static void tileF16(MemorySegment w, long w0, long w1, float[] x, int x0, int x1, int x2, int x3, int n, float[] acc, int at) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + c);
            long o = 2L * c;
            FloatVector r = f16(w, w0 + o);
            a00 = r.fma(v0, a00);
            a01 = r.fma(v1, a01);
            a02 = r.fma(v2, a02);
            a03 = r.fma(v3, a03);
            r = f16(w, w1 + o);
            a10 = r.fma(v0, a10);
            a11 = r.fma(v1, a11);
            a12 = r.fma(v2, a12);
            a13 = r.fma(v3, a13);
        }
        acc[at] = sum(a00);
        acc[at + 1] = sum(a01);
        acc[at + 2] = sum(a02);
        acc[at + 3] = sum(a03);
        acc[at + 4] = sum(a10);
        acc[at + 5] = sum(a11);
        acc[at + 6] = sum(a12);
        acc[at + 7] = sum(a13);
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

    /** {@code sum_{c in [from, to)} W[c] * x[xo + c]} for the columns past the last full vector. */
    private static float tail(DType dtype, MemorySegment w, long row, float[] x, int xo, int from, int to) {
        float s = 0;
        for (int c = from; c < to; c++) {
            float v = switch (dtype) {
                case F32 -> w.get(F32, row + 4L * c);
                case BF16 -> Float.intBitsToFloat(w.get(U16, row + 2L * c) << 16);
                case F16 -> Float.float16ToFloat(w.get(U16, row + 2L * c));
            };
            s += v * x[xo + c];
        }
        return s;
    }

    /** L 16-bit values, sign-extended to int lanes. */
    private static IntVector widen(MemorySegment s, long at) {
        return (IntVector) ShortVector.fromMemorySegment(H, s, at, LE).convertShape(S2I, I, 0);
    }

    /** bfloat16 is the upper half of a float32. */
    private static FloatVector bf16(MemorySegment s, long at) {
        return widen(s, at).lanewise(LSHL, 16).reinterpretAsFloats();
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
