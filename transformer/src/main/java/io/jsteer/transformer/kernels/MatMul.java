package io.jsteer.transformer.kernels;

import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Dense products against a weight matrix stored row-major as {@code W[rows][cols]} (the layout
 * of a Hugging Face {@code nn.Linear} weight, {@code [out_features][in_features]}), read in its
 * stored dtype straight from the mapped file.
 *
 * <p>Rows are split into chunks spread over all cores ({@link Parallel}), and weights are widened
 * to float32 in registers as they are loaded. With one token the product is a matrix-vector
 * product limited by memory bandwidth: rows are read one after another, or four at a time once
 * they are long; BF16 rows are read as 32-bit words of two columns each, multiplied by the input
 * split into even and odd columns, so no widening instruction is needed. With several tokens
 * (prefill) each weight vector loaded is multiplied into four tokens, and the four rows, a few
 * kilobytes, stay in cache while every block of four tokens passes over them, so the weights are
 * read from memory once for the whole batch.
 *
 * <p>{@code -Djsteer.vector.bits} (128, 256 or 512) forces one vector width. By default each
 * product takes the width measured fastest on an AMD EPYC (Zen 4), capped at the CPU's widest:
 * 256 bits for F32 and BF16 and for every batch (512-bit loads from the mapped file stream
 * slower there, and Zen 4 runs 512-bit arithmetic at half rate, which the 4x4 tile feels), 512
 * for one token of F16 weights, whose widening is compute-bound and needs half the instructions
 * at 512 bits. See {@code benchmarks/RESULTS.md}.
 */
public final class MatMul {
    private static final MatMul PREFERRED = preferredWidths();
    /** Rows per chunk unit: the kernels' blocks of four rows. */
    private static final int B = 4;
    /**
     * Largest x plus one weight row, in bytes ({@code cols * (4 + dtype bytes)}), read one row
     * after another. While both sit in the 32 KB L1 data cache a single front-to-back stream is
     * faster (at 768 columns 86% of a streaming read against 48% for four BF16 rows at a time);
     * past it x is evicted by the stream, and four rows sharing each x load win. Measured on
     * Zen 4 with 32 MB matrices: BF16 rows one by one 0.88 of the stream at 4096 columns (24 KB),
     * 0.61 at 6144, where four rows reach 0.80; F32 0.94 at 3072 (24 KB) and 0.87 at 4096, where
     * four rows reach 0.91.
     */
    static final int SEQUENTIAL_BYTES = 24 * 1024;

    /** Kernel for one token, by {@link DType#ordinal()}. */
    private final Kernel[] vector;
    /** Kernel for several tokens. */
    private final Kernel batch;
    /** Largest x plus row read row by row (see {@link #SEQUENTIAL_BYTES}). */
    private final int sequentialBytes;

    private MatMul(Kernel f32, Kernel bf16, Kernel f16, Kernel batch, int sequentialBytes) {
        this.vector = new Kernel[DType.values().length];
        vector[DType.F32.ordinal()] = f32;
        vector[DType.BF16.ordinal()] = bf16;
        vector[DType.F16.ordinal()] = f16;
        this.batch = batch;
        this.sequentialBytes = sequentialBytes;
    }

    private static MatMul preferredWidths() {
        int forced = Kernels.forcedBits();
        if (forced != 0) return withBits(forced);
        Kernel narrow = Kernels.of(Math.min(256, maxBits())), wide = Kernels.of(Math.min(512, maxBits()));
        return new MatMul(narrow, narrow, wide, narrow, SEQUENTIAL_BYTES);
    }

    /** Products at the widths of {@code -Djsteer.vector.bits}, else the widths measured fastest (see the class comment). */
    public static MatMul preferred() {
        return PREFERRED;
    }

    /** Products at {@code bits} (128, 256 or 512) vector width throughout, for tests and benchmarks. */
    public static MatMul withBits(int bits) {
        return withBits(bits, SEQUENTIAL_BYTES);
    }

    /** As {@link #withBits(int)}, reading one-token rows one by one up to {@code sequentialBytes} of x plus a row (tests cover both ways). */
    static MatMul withBits(int bits, int sequentialBytes) {
        Kernel k = Kernels.of(bits);
        return new MatMul(k, k, k, k, sequentialBytes);
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

    /** The vector widths this instance uses, e.g. {@code "1 token: f32 256, bf16 256, f16 512; batch 256 bits"}. */
    @Override
    public String toString() {
        return "1 token: f32 " + vector[DType.F32.ordinal()].bits() + ", bf16 " + vector[DType.BF16.ordinal()].bits()
                + ", f16 " + vector[DType.F16.ordinal()].bits() + "; batch " + batch.bits() + " bits";
    }

    /** As {@link #matmul}, at this instance's vector width. */
    public void multiply(Tensor w, float[] x, float[] out, int tokens) {
        Parallel.forAll(product(w, x, out, tokens));
    }

    /**
     * The loop of {@link #matmul} not yet run, for {@link Parallel#forAll} beside other loops;
     * its indices are blocks of four rows, handed out largest chunks first down to single blocks.
     */
    public static Parallel.Loop loop(Tensor w, float[] x, float[] out, int tokens) {
        return PREFERRED.product(w, x, out, tokens);
    }

    private Parallel.Loop product(Tensor w, float[] x, float[] out, int tokens) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int rows = w.dim(0), cols = w.dim(1);
        if (tokens < 1) throw new IllegalArgumentException("tokens must be positive, got " + tokens + " for " + w);
        if ((long) tokens * cols > x.length) {
            throw new IllegalArgumentException("input of " + x.length + " floats is shorter than " + tokens + " tokens x " + cols + " columns of " + w);
        }
        if ((long) tokens * rows > out.length) {
            throw new IllegalArgumentException("output of " + out.length + " floats is shorter than " + tokens + " tokens x " + rows + " rows of " + w);
        }
        DType dtype = w.dtype();
        MemorySegment data = w.data();
        int quads = (rows + B - 1) / B;
        if (tokens > 1) {
            return new Parallel.Loop(quads, 1, (q0, q1) -> batch.matmul(dtype, data, rows, cols, x, out, tokens, q0 * B, Math.min(rows, q1 * B)));
        }
        Kernel k = vector[dtype.ordinal()];
        float[] in = dtype == DType.BF16 ? k.bf16Input(x, cols) : x;
        boolean sequential = (long) cols * (Float.BYTES + dtype.bytes()) <= sequentialBytes;
        return new Parallel.Loop(quads, 1, (q0, q1) -> k.matvec(dtype, data, rows, cols, in, out, q0 * B, Math.min(rows, q1 * B), sequential));
    }
}
