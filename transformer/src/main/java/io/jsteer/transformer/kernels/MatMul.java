package io.jsteer.transformer.kernels;

import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dense products against a weight matrix stored row-major as {@code W[rows][cols]} (the layout
 * of a Hugging Face {@code nn.Linear} weight, {@code [out_features][in_features]}), read in its
 * stored dtype straight from the mapped file.
 *
 * <p>Rows are split into chunks spread over all cores ({@link Parallel}), and weights are widened
 * to float32 in registers as they are loaded. With one token the product is a matrix-vector
 * product limited by memory bandwidth: rows are read one after another, or four at a time once
 * they are long. With several tokens (prefill)
 * each weight vector loaded is multiplied into four tokens, and the four rows, a few kilobytes,
 * stay in cache while every block of four tokens passes over them, so the weights are read from
 * memory once for the whole batch.
 *
 * <p>{@code -Djsteer.vector.bits} (128, 256 or 512) forces one vector width. By default each
 * product takes the width measured fastest on an AMD EPYC (Zen 4), capped at the CPU's widest:
 * 512 bits for one token of BF16 and F16 weights (half the instructions per byte widened), 256
 * for one token of F32 weights and for every batch (Zen 4 runs 512-bit arithmetic at half rate,
 * which the 4x4 tile feels and a bandwidth-bound stream of F32 does not need). See
 * {@code benchmarks/RESULTS.md}.
 */
public final class MatMul {
    private static final MatMul PREFERRED = preferredWidths();
    /** Rows and tokens per block: the kernels' 4x4 register tile. */
    private static final int B = 4;
    /**
     * Widest input read one row after another. Rows this short end before the hardware
     * prefetcher gets going on four interleaved streams, so a single front-to-back stream is
     * faster (up to 60% on 768 columns); beyond this x no longer sits in L1 beside the stream,
     * and four rows sharing each x load win.
     */
    static final int SEQUENTIAL_COLS = 4096;
    /** Chunks per thread: enough to even out cores slowed by other work, few enough to keep the hand-out cheap. */
    private static final int CHUNKS_PER_THREAD = 8;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Kernel for one token, by {@link DType#ordinal()}. */
    private final Kernel[] vector;
    /** Kernel for several tokens. */
    private final Kernel batch;
    /** Widest one-token input read row by row (see {@link #SEQUENTIAL_COLS}). */
    private final int sequentialCols;

    private MatMul(Kernel f32, Kernel bf16, Kernel f16, Kernel batch, int sequentialCols) {
        this.vector = new Kernel[DType.values().length];
        vector[DType.F32.ordinal()] = f32;
        vector[DType.BF16.ordinal()] = bf16;
        vector[DType.F16.ordinal()] = f16;
        this.batch = batch;
        this.sequentialCols = sequentialCols;
    }

    private static MatMul preferredWidths() {
        int forced = Kernels.forcedBits();
        if (forced != 0) return withBits(forced);
        Kernel narrow = Kernels.of(Math.min(256, maxBits())), wide = Kernels.of(Math.min(512, maxBits()));
        return new MatMul(narrow, wide, wide, narrow, SEQUENTIAL_COLS);
    }

    /** Products at the widths of {@code -Djsteer.vector.bits}, else the widths measured fastest (see the class comment). */
    public static MatMul preferred() {
        return PREFERRED;
    }

    /** Products at {@code bits} (128, 256 or 512) vector width throughout, for tests and benchmarks. */
    public static MatMul withBits(int bits) {
        return withBits(bits, SEQUENTIAL_COLS);
    }

    /** As {@link #withBits(int)}, reading one-token rows one by one up to {@code sequentialCols} columns (tests cover both ways). */
    static MatMul withBits(int bits, int sequentialCols) {
        Kernel k = Kernels.of(bits);
        return new MatMul(k, k, k, k, sequentialCols);
    }

    /** Widest vector width, in bits, the JIT supports on this CPU. */
    public static int maxBits() {
        return Kernels.maxBits();
    }

    /**
     * {@code out[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens}: x is {@code [tokens][cols]},
     * out is {@code [tokens][rows]}, both row-major; at the preferred vector width.
     */
    public static void matmul(Tensor w, float[] x, float[] out, int tokens) {
        PREFERRED.multiply(w, x, out, tokens);
    }

    /** The vector widths this instance uses, e.g. {@code "1 token: f32 256, bf16 512, f16 512; batch 256 bits"}. */
    @Override
    public String toString() {
        return "1 token: f32 " + vector[DType.F32.ordinal()].bits() + ", bf16 " + vector[DType.BF16.ordinal()].bits()
                + ", f16 " + vector[DType.F16.ordinal()].bits() + "; batch " + batch.bits() + " bits";
    }

    /** As {@link #matmul}, at this instance's vector width. */
    public void multiply(Tensor w, float[] x, float[] out, int tokens) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int rows = w.dim(0), cols = w.dim(1);
        if (tokens < 1) throw new IllegalArgumentException("tokens must be positive, got " + tokens + " for " + w);
        if ((long) tokens * cols > x.length) {
            throw new IllegalArgumentException("input of " + x.length + " floats is shorter than " + tokens + " tokens x " + cols + " columns of " + w);
        }
        if ((long) tokens * rows > out.length) {
            throw new IllegalArgumentException("output of " + out.length + " floats is shorter than " + tokens + " tokens x " + rows + " rows of " + w);
        }
        int quads = (rows + B - 1) / B;
        int grain = Math.max(1, quads / (CHUNKS_PER_THREAD * Parallel.threads()));
        Parallel.forRange(quads, grain, (q0, q1) -> rows(w, x, out, tokens, q0 * B, Math.min(rows, q1 * B)));
    }

    /** Rows {@code [r0, r1)} of the product, one block of four rows at a time. */
    private void rows(Tensor w, float[] x, float[] out, int tokens, int r0, int r1) {
        int rows = w.dim(0), cols = w.dim(1);
        DType dtype = w.dtype();
        Kernel kernel = tokens == 1 ? vector[dtype.ordinal()] : batch;
        int main = cols - cols % kernel.lanes();
        MemorySegment src = w.data();
        long rowBytes = (long) cols * dtype.bytes();
        float[] acc = new float[B * B];
        long[] at = new long[B];
        for (int r = r0; r < r1; r += B) {
            int n = Math.min(B, r1 - r);
            // past the last row the block repeats it; those results are not stored
            for (int i = 0; i < B; i++) at[i] = Math.min(r + i, rows - 1) * rowBytes;
            if (tokens == 1) {
                if (cols <= sequentialCols) {
                    for (int i = 0; i < n; i++) out[r + i] = kernel.rowDot(dtype, src, at[i], x, 0, main) + tail(dtype, src, at[i], x, 0, main, cols);
                } else {
                    kernel.dot4x1(dtype, src, at[0], at[1], at[2], at[3], x, 0, main, acc);
                    for (int i = 0; i < n; i++) out[r + i] = acc[i] + tail(dtype, src, at[i], x, 0, main, cols);
                }
                continue;
            }
            for (int t = 0; t < tokens; t += B) {
                int m = Math.min(B, tokens - t);
                int x0 = t * cols, x1 = Math.min(t + 1, tokens - 1) * cols, x2 = Math.min(t + 2, tokens - 1) * cols, x3 = Math.min(t + 3, tokens - 1) * cols;
                kernel.dot4x4(dtype, src, at[0], at[1], at[2], at[3], x, x0, x1, x2, x3, main, acc);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < m; j++) {
                        int xo = (t + j) * cols;
                        out[(t + j) * rows + r + i] = acc[B * i + j] + tail(dtype, src, at[i], x, xo, main, cols);
                    }
                }
            }
        }
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
}
