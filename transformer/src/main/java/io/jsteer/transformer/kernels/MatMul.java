package io.jsteer.transformer.kernels;

import io.jsteer.weights.DType;
import io.jsteer.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dense products against a weight matrix stored row-major as {@code W[rows][cols]} (the layout
 * of a Hugging Face {@code nn.Linear} weight, {@code [out_features][in_features]}), read in its
 * stored dtype straight from the mapped file.
 *
 * <p>Rows are split into chunks spread over all cores ({@link Parallel}). With one token the
 * product is a matrix-vector product limited by memory bandwidth: four rows stream at a time and
 * F32 and BF16 rows are read and widened in registers (F16 rows, whose conversion costs more, are
 * widened into a small per-thread buffer first). With several tokens (prefill) four rows are
 * widened to float32 once and each weight vector loaded is multiplied into four tokens, so the
 * weights are read from memory once for the whole batch.
 *
 * <p>The vector width is {@code -Djsteer.vector.bits} (128, 256 or 512), 256 by default.
 */
public final class MatMul {
    private static final MatMul PREFERRED = new MatMul(Kernels.preferred());
    /** Rows and tokens per block: the kernels' 4x4 register tile. */
    private static final int B = 4;
    /** Chunks per thread: enough to even out cores slowed by other work, few enough to keep the hand-out cheap. */
    private static final int CHUNKS_PER_THREAD = 8;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Per-thread buffer for rows widened to float32 (four rows of the widest matrix seen). */
    private static final ThreadLocal<MemorySegment[]> WIDENED = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    private final Kernel kernel;

    private MatMul(Kernel kernel) {
        this.kernel = kernel;
    }

    /** Products at the vector width chosen by {@code -Djsteer.vector.bits}, 256 bits by default. */
    public static MatMul preferred() {
        return PREFERRED;
    }

    /** Products at {@code bits} (128, 256 or 512) vector width, for tests and benchmarks. */
    public static MatMul withBits(int bits) {
        return new MatMul(Kernels.of(bits));
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

    /** Vector width of this instance, in bits. */
    public int bits() {
        return kernel.bits();
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
        int main = cols - cols % kernel.lanes();
        DType dtype = w.dtype();
        long rowBytes = (long) cols * dtype.bytes();
        // widen first unless the kernels read the stored rows directly
        boolean widen = dtype == DType.F16 || (dtype == DType.BF16 && tokens > 1);
        MemorySegment buf = widen ? widened(4L * B * cols) : null;
        float[] acc = new float[B * B];
        long[] at = new long[B];
        for (int r = r0; r < r1; r += B) {
            int n = Math.min(B, r1 - r);
            MemorySegment src = w.data();
            DType srcType = dtype;
            for (int i = 0; i < B; i++) at[i] = Math.min(r + i, rows - 1) * rowBytes;
            if (widen) {
                for (int i = 0; i < B; i++) {
                    kernel.decode(dtype, src, at[i], buf, 4L * i * cols, cols);
                    at[i] = 4L * i * cols;
                }
                src = buf;
                srcType = DType.F32;
            }
            if (tokens == 1) {
                kernel.dot4x1(srcType, src, at[0], at[1], at[2], at[3], x, 0, main, acc);
                for (int i = 0; i < n; i++) out[r + i] = acc[i] + tail(srcType, src, at[i], x, 0, main, cols);
                continue;
            }
            for (int t = 0; t < tokens; t += B) {
                int m = Math.min(B, tokens - t);
                int x0 = t * cols, x1 = Math.min(t + 1, tokens - 1) * cols, x2 = Math.min(t + 2, tokens - 1) * cols, x3 = Math.min(t + 3, tokens - 1) * cols;
                kernel.dot4x4(src, at[0], at[1], at[2], at[3], x, x0, x1, x2, x3, main, acc);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < m; j++) {
                        int xo = (t + j) * cols;
                        out[(t + j) * rows + r + i] = acc[B * i + j] + tail(srcType, src, at[i], x, xo, main, cols);
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

    private static MemorySegment widened(long bytes) {
        MemorySegment[] slot = WIDENED.get();
        if (slot[0] == null || slot[0].byteSize() < bytes) slot[0] = Arena.ofAuto().allocate(bytes, 64);
        return slot[0];
    }
}
