/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
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
 * product limited by memory bandwidth: rows are read two at a time, or four at a time sharing
 * each load of x once x no longer fits in L1 beside them; BF16 rows are read as 32-bit words of
 * two columns each, multiplied by the input split into even and odd columns, so no widening
 * instruction is needed. With several tokens (prefill, or a batch of sequences) each weight
 * vector loaded is multiplied into several tokens, so the weights are read from memory once for
 * the whole batch (see below).
 *
 * <h2>Batch invariance</h2>
 * Every result {@code out[t][r]} is summed in one order, which depends only on the weight row,
 * the row of x, {@code cols} and the vector width {@code L} (float32 lanes) used for the dtype:
 * <ol>
 * <li>the columns are cut into chunks of L: for F32 and F16 chunk {@code j} is columns
 *     {@code [jL, jL + L)}; for BF16 each block of 2L columns gives two chunks, its even columns
 *     then its odd ones; only whole chunks (whole blocks for BF16) count;</li>
 * <li>chunk {@code j} is added into vector accumulator {@code j % 2} by a fused multiply-add,
 *     lane by lane, in increasing {@code j}, both accumulators starting at zero;</li>
 * <li>the two accumulators are added, then their lanes in a fixed tree (lanes {@code i} and
 *     {@code i + L/2}, and so on down to lane 0);</li>
 * <li>the columns past the last whole chunk are added to that, as one float sum of unfused
 *     products taken in column order, starting from zero.</li>
 * </ol>
 * So a token's output row is bit-identical whether it is multiplied alone ({@code tokens == 1})
 * or as any row of a product with any number of tokens, whatever the number of threads or how
 * the rows are split among them, and whichever kernel (one token or several, rows read two or
 * four at a time) computes it. A batch of sequences therefore gives each sequence exactly the
 * results it gets alone. Changing the vector width of a dtype changes the order (and the last
 * bits); the width is chosen per dtype, not per kernel, for that reason.
 *
 * <h2>The prompt order</h2>
 * The rows of a prompt (a sequence's step of at least {@link #PROMPT_TOKENS} tokens) are summed
 * in a second fixed order instead: {@code acc = fma(W[r][c], x[t][c], acc)} for c from 0, one
 * fused multiply-add per column in column order, starting from zero. It too depends on nothing
 * but the weight row and the row of x, so batch invariance holds as above: a prompt's rows give
 * the same bits whatever shares the product. It does not even depend on the vector width (a
 * vector's lanes are tokens, each lane one output), so a prompt's rows are bit-identical on
 * every machine. The kernel needs no sums across lanes at the end, which lets its tile run
 * nearer the FMA peak (RESULTS.md). The price: a prompt fed in one step and the same tokens fed
 * one at a time differ in the last bits of each product (two orders of one sum; the tests state
 * the bound), where a single order made them equal.
 *
 * <p>{@code -Djsteer.vector.bits} (128, 256 or 512) forces one vector width. By default each
 * dtype takes the width measured fastest on the CPU's kind, capped at the CPU's widest: 512 bits
 * for every dtype on Intel cores with AVX-512; on AMD Zen 4, 256 bits for F32 and BF16 and 512
 * for F16 (its widening is compute-bound and needs half the instructions at 512 bits). See
 * {@code benchmarks/RESULTS.md}.
 *
 * <p>With a few tokens (under 16: a batch of decoded sequences) each weight vector loaded serves
 * a tile of 2 rows x 4 tokens (two accumulators each, so the order above holds), in blocks of 16
 * rows x 1024 columns whose partial accumulators wait in memory. With more (prefill) the rows of
 * each block are first widened to float32 into packed panels (the even chunks, then the odd ones),
 * each thread lays out the tokens once per product, and the tile is 4 rows x 6 tokens over the
 * chunks of one parity: the even chunks into accumulator 0, then the odd ones into accumulator 1,
 * which is again the order above, with one vector register per result instead of two.
 *
 * <p>Weights in ggml's block formats (Q8_0, Q4_0, K-quants) go to {@link QuantKernel}, which sums
 * in this same order over the weights as ggml decodes them (chunks of L columns, whole blocks
 * always), at the width of the BF16 products but at least 256 bits: each output is bit for bit
 * the F32 product, at that width, of the decoded matrix. With many tokens the decoded rows fill
 * the packed panels above, and the same tile runs on them.
 */
public final class MatMul {
    private static final MatMul PREFERRED = preferredWidths();
    /** Rows per chunk unit: the kernels' blocks of four rows. */
    private static final int B = 4;
    /**
     * Largest x plus one weight row, in bytes ({@code cols * (4 + dtype bytes)}), for which
     * one-token rows are read two at a time: while x sits in the L1 data cache beside the rows,
     * fewer streams at once read faster; past it x is evicted by the stream, and four rows
     * sharing each load of x win.
     */
    static final int SEQUENTIAL_BYTES = 24 * 1024;

    /** Kernel by {@link DType#ordinal()}, for one token and for several. */
    private final Kernel[] kernel;
    /** Largest x plus row read two rows at a time (see {@link #SEQUENTIAL_BYTES}). */
    private final int sequentialBytes;

    private MatMul(Kernel f32, Kernel bf16, Kernel f16, int sequentialBytes) {
        this.kernel = new Kernel[DType.values().length];
        kernel[DType.F32.ordinal()] = f32;
        kernel[DType.BF16.ordinal()] = bf16;
        kernel[DType.F16.ordinal()] = f16;
        this.sequentialBytes = sequentialBytes;
    }

    private static MatMul preferredWidths() {
        int forced = Kernels.forcedBits();
        if (forced != 0) return withBits(forced);
        Kernel wide = Kernels.of(Math.min(512, maxBits()));
        if (!amd()) return new MatMul(wide, wide, wide, SEQUENTIAL_BYTES);
        Kernel narrow = Kernels.of(Math.min(256, maxBits()));
        return new MatMul(narrow, narrow, wide, SEQUENTIAL_BYTES);
    }

    /**
     * Whether the CPU is an AMD one, whose Zen 4 cores run 512-bit arithmetic at half rate and
     * stream 512-bit loads from a mapped file slower: there F32 and BF16 products are faster at
     * 256 bits, while on Intel cores with AVX-512 every dtype is as fast or faster at 512.
     * The width is fixed per machine rather than timed at start-up because it is part of the
     * reduction order: a timing that came out differently would change results between runs.
     */
    private static boolean amd() {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("vendor_id")).findFirst().map(l -> l.contains("AuthenticAMD")).orElse(false);
        } catch (java.io.IOException | java.io.UncheckedIOException | SecurityException e) {
            return false;
        }
    }

    /** Products at the widths of {@code -Djsteer.vector.bits}, else the widths measured fastest (see the class comment). */
    public static MatMul preferred() {
        return PREFERRED;
    }

    /** Products at {@code bits} (128, 256 or 512) vector width throughout, for tests and benchmarks. */
    public static MatMul withBits(int bits) {
        return withBits(bits, SEQUENTIAL_BYTES);
    }

    /** As {@link #withBits(int)}, reading one-token rows two at a time up to {@code sequentialBytes} of x plus a row (tests cover both ways). */
    static MatMul withBits(int bits, int sequentialBytes) {
        Kernel k = Kernels.of(bits);
        return new MatMul(k, k, k, sequentialBytes);
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

    /** The vector widths this instance uses, e.g. {@code "f32 256, bf16 256, f16 512 bits"}. */
    @Override
    public String toString() {
        return "f32 " + kernel[DType.F32.ordinal()].bits() + ", bf16 " + kernel[DType.BF16.ordinal()].bits()
                + ", f16 " + kernel[DType.F16.ordinal()].bits() + " bits";
    }

    /** Vector width of this instance's BF16 products, which {@link QuantKernel} follows. */
    int bf16Bits() {
        return kernel[DType.BF16.ordinal()].bits();
    }

    /**
     * Fewest tokens of one sequence's step whose rows take the prompt order (see the class
     * comment): a prompt of at least this many tokens is fed in one step, while decoded tokens,
     * one per step, and shorter prompts take the order of one token. The prompt order's tile
     * takes 64 tokens at once, and a last group of a few tokens leaves most of its lanes idle:
     * below 96 tokens that costs more than the tile gains (measured, RESULTS.md).
     */
    public static final int PROMPT_TOKENS = 96;

    /** The prompt rows of one sequence's step of {@code tokens} tokens: all of them for a prompt, else none. */
    public static int promptRows(int tokens) {
        return tokens >= PROMPT_TOKENS ? tokens : 0;
    }

    /**
     * A product not yet run: its {@link #loops} to run with other products' ({@link
     * Parallel#forAll}), then {@link #finish} once they are done.
     */
    public record Work(Parallel.Loop[] loops, Runnable finish) {
        /** Runs what is left once the loops are done. */
        public void finishUp() {
            if (finish != null) finish.run();
        }

        /** Runs the product alone: its loops on all cores, then what is left. */
        public void run() {
            Parallel.forAll(loops);
            finishUp();
        }
    }

    /**
     * As {@link #matmul(Tensor, float[], float[], int)}, where rows {@code [0, promptRows)} of x
     * belong to prompt steps and take the prompt order, the rest the order of one token.
     */
    public static void matmul(Tensor w, float[] x, float[] out, int tokens, int promptRows) {
        work(w, x, out, tokens, promptRows).run();
    }

    /** The {@link Work} of {@link #matmul(Tensor, float[], float[], int, int)}, not yet run. */
    public static Work work(Tensor w, float[] x, float[] out, int tokens, int promptRows) {
        return PREFERRED.products(w, x, out, tokens, promptRows);
    }

    /** As {@link #work}, at this instance's vector widths (the prompt order's sums do not depend on them). */
    public Work products(Tensor w, float[] x, float[] out, int tokens, int promptRows) {
        check(w, x, out, tokens);
        if (promptRows < 0 || promptRows > tokens) throw new IllegalArgumentException(promptRows + " prompt rows of " + tokens + " tokens");
        if (promptRows == 0) return new Work(new Parallel.Loop[] {product(w, x, out, tokens)}, null);
        Parallel.Loop prompt = promptProduct(w, x, out, promptRows);
        if (promptRows == tokens) return new Work(new Parallel.Loop[] {prompt}, null);
        // the other rows through their own arrays, copied back once both loops are done
        int rows = w.dim(0), cols = w.dim(1), rest = tokens - promptRows;
        float[] restX = java.util.Arrays.copyOfRange(x, promptRows * cols, tokens * cols), restOut = new float[rest * rows];
        return new Work(new Parallel.Loop[] {prompt, product(w, restX, restOut, rest)},
                () -> System.arraycopy(restOut, 0, out, promptRows * rows, restOut.length));
    }

    /** Rows per chunk unit of the prompt order's loop: its kernel's blocks of rows. */
    private static final int PROMPT_BLOCK = 48;

    /** The prompt-order loop of {@link #products}, which checked the sizes. */
    private Parallel.Loop promptProduct(Tensor w, float[] x, float[] out, int tokens) {
        int rows = w.dim(0), cols = w.dim(1);
        // quantized rows are decoded exactly to float32, so any width's kernel sums them alike
        Kernel k = kernel[w.dtype().isQuantized() ? DType.F32.ordinal() : w.dtype().ordinal()];
        Object product = new Object();
        return new Parallel.Loop((rows + PROMPT_BLOCK - 1) / PROMPT_BLOCK, 1,
                (b0, b1) -> k.matmulPrompt(w.dtype(), w.data(), rows, cols, x, out, tokens, b0 * PROMPT_BLOCK, Math.min(rows, b1 * PROMPT_BLOCK), product));
    }

    /** As {@link #matmul}, at this instance's vector width. */
    public void multiply(Tensor w, float[] x, float[] out, int tokens) {
        Parallel.forAll(product(w, x, out, tokens));
    }

    private Parallel.Loop product(Tensor w, float[] x, float[] out, int tokens) {
        check(w, x, out, tokens);
        int rows = w.dim(0), cols = w.dim(1);
        DType dtype = w.dtype();
        MemorySegment data = w.data();
        int quads = (rows + B - 1) / B;
        if (dtype.isQuantized()) {
            Object product = new Object();
            return new Parallel.Loop(quads, 1, (q0, q1) -> QuantKernel.matmul(dtype, data, rows, cols, x, out, tokens, q0 * B, Math.min(rows, q1 * B), product));
        }
        Kernel k = kernel[dtype.ordinal()];
        if (tokens > 1) {
            Object product = new Object();
            return new Parallel.Loop(quads, 1, (q0, q1) -> k.matmul(dtype, data, rows, cols, x, out, tokens, q0 * B, Math.min(rows, q1 * B), product));
        }
        float[] in = dtype == DType.BF16 ? k.bf16Input(x, cols, tokens) : x;
        boolean sequential = (long) cols * (Float.BYTES + dtype.bytes()) <= sequentialBytes;
        return new Parallel.Loop(quads, 1, (q0, q1) -> k.matvec(dtype, data, rows, cols, in, out, q0 * B, Math.min(rows, q1 * B), sequential));
    }

    private static void check(Tensor w, float[] x, float[] out, int tokens) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int rows = w.dim(0), cols = w.dim(1);
        if (tokens < 1) throw new IllegalArgumentException("tokens must be positive, got " + tokens + " for " + w);
        if ((long) tokens * cols > x.length) {
            throw new IllegalArgumentException("input of " + x.length + " floats is shorter than " + tokens + " tokens x " + cols + " columns of " + w);
        }
        if ((long) tokens * rows > out.length) {
            throw new IllegalArgumentException("output of " + out.length + " floats is shorter than " + tokens + " tokens x " + rows + " rows of " + w);
        }
    }
}
