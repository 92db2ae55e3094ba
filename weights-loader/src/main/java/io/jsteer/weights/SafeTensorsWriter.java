/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file that {@link SafeTensorsFile} and Hugging Face's
 * {@code safetensors} library read back.
 *
 * <p>As the reference writer does, the JSON header is padded with spaces to a multiple of 8 bytes
 * and the data is ordered by decreasing element size then name, so every tensor starts aligned to
 * its element size. Values are streamed a chunk at a time through a {@link FileChannel}: a tensor
 * can come from a memory-mapped checkpoint or be generated on the fly without the file ever being
 * held in memory. The file appears atomically: data goes to a temporary file in the target's
 * directory that is renamed over the target only once complete, and deleted on any failure.
 *
 * <pre>{@code
 * new SafeTensorsWriter().metadata("layer", "6")
 *         .add("steering_vector", vector, DType.F32, vector.length)
 *         .write(path);
 * }</pre>
 */
public final class SafeTensorsWriter {
    /** Supplies the float32 values of a tensor being written, in row-major order, a chunk at a time. */
    @FunctionalInterface
    public interface Values {
        /** Fills {@code out} with the elements {@code [from, from + out.length)} of the flattened tensor. */
        void read(long from, float[] out);
    }

    /** Elements converted per chunk: large enough to amortise the system call, small enough to stay in cache. */
    private static final int CHUNK = 1 << 16;

    /** {@code source} is non-null when the bytes can be copied verbatim instead of converted. */
    private record Entry(String name, DType dtype, long[] shape, Values values, MemorySegment source) {
        long elements() {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    /** An empty file: no tensors, no metadata. */
    public SafeTensorsWriter() {}

    /** Writes {@code tensors} (keyed by name) stored as {@code dtype}, with a {@code __metadata__} map. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, DType dtype) {
        SafeTensorsWriter w = new SafeTensorsWriter().metadata(metadata);
        tensors.forEach((name, t) -> w.add(name, t, dtype));
        w.write(file);
    }

    /** Adds a {@code __metadata__} entry. */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(requireNonNull(key, "metadata key"), requireNonNull(value, "metadata value of '" + key + "'"));
        return this;
    }

    /** Adds all entries of {@code map} to {@code __metadata__}. */
    public SafeTensorsWriter metadata(Map<String, String> map) {
        map.forEach(this::metadata);
        return this;
    }

    /**
     * Adds {@code tensor} under {@code name}, stored as {@code dtype}. A tensor already stored in
     * {@code dtype} is copied byte for byte; otherwise its values are converted, rounding to
     * nearest even. It is read only by {@link #write}, so a mapped tensor must stay open until then.
     */
    public SafeTensorsWriter add(String name, Tensor tensor, DType dtype) {
        long bytes = tensor.data().byteSize();
        if (bytes != tensor.size() * tensor.dtype().bytes()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + bytes + " bytes of data do not hold "
                    + tensor.dtype() + " " + Arrays.toString(tensor.shape()));
        }
        return put(new Entry(name, dtype, tensor.shape().clone(), tensor::read, tensor.dtype() == dtype ? tensor.data() : null));
    }

    /** Adds the row-major {@code values} of the given shape; the array is read only by {@link #write}. */
    public SafeTensorsWriter add(String name, float[] values, DType dtype, long... shape) {
        Entry e = new Entry(name, dtype, shape.clone(), (from, out) -> System.arraycopy(values, Math.toIntExact(from), out, 0, out.length), null);
        validate(e);
        if (e.elements() != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " does not hold " + values.length + " values");
        }
        return put(e);
    }

    /** Adds a tensor whose values {@code values} produces while the file is written, e.g. generated weights. */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, Values values) {
        return put(new Entry(name, dtype, shape.clone(), requireNonNull(values, "values of '" + name + "'"), null));
    }

    private SafeTensorsWriter put(Entry e) {
        validate(e);
        if (entries.containsKey(e.name())) throw new IllegalArgumentException("tensor '" + e.name() + "' added twice");
        entries.put(e.name(), e);
        return this;
    }

    private static void validate(Entry e) {
        requireNonNull(e.name(), "tensor name");
        requireNonNull(e.dtype(), "dtype of '" + e.name() + "'");
        if (e.name().isEmpty()) throw new IllegalArgumentException("tensor name is empty");
        if (e.name().equals(SafeTensorsFile.METADATA_KEY)) throw new IllegalArgumentException("'" + e.name() + "' is reserved for metadata");
        for (long d : e.shape()) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + e.name() + "': negative dimension in shape " + Arrays.toString(e.shape()));
        }
        try {
            Math.multiplyExact(e.elements(), e.dtype().bytes());
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("tensor '" + e.name() + "': shape " + Arrays.toString(e.shape()) + " overflows");
        }
    }

    private static <T> T requireNonNull(T value, String what) {
        if (value == null) throw new IllegalArgumentException(what + " is null");
        return value;
    }

    /**
     * Writes the file atomically; throws {@link WeightsException} naming {@code file} when it
     * cannot, leaving no partial file behind and any previous {@code file} untouched.
     */
    public void write(Path file) {
        List<Entry> order = new ArrayList<>(entries.values());
        order.sort(Comparator.comparingInt((Entry e) -> -e.dtype().bytes()).thenComparing(Entry::name));
        byte[] header = header(order);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) throw new WeightsException(file, "cannot write: directory " + dir + " does not exist");
        Path tmp = TempFiles.siblingOf(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
                writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
                float[] chunk = new float[CHUNK];
                for (Entry e : order) writeData(ch, e, buf, chunk);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(tmp, e);
            throw new WeightsException(file, "cannot write: " + e, e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp, e);
            throw e;
        }
    }

    /** The JSON header, space-padded to a multiple of 8 bytes; offsets follow {@code order}. */
    private byte[] header(List<Entry> order) {
        ObjectNode root = Json.STRICT.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafeTensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : order) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            long end = offset + e.elements() * e.dtype().bytes();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = Json.STRICT.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a tree of strings and numbers", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeData(FileChannel ch, Entry e, ByteBuffer buf, float[] chunk) throws IOException {
        if (e.source() != null) {
            long bytes = e.source().byteSize();
            for (long off = 0; off < bytes; off += buf.capacity()) {
                writeFully(ch, e.source().asSlice(off, Math.min(buf.capacity(), bytes - off)).asByteBuffer());
            }
            return;
        }
        long n = e.elements();
        for (long from = 0; from < n; from += CHUNK) {
            float[] part = n - from >= CHUNK ? chunk : new float[(int) (n - from)];
            e.values().read(from, part);
            buf.clear();
            switch (e.dtype()) {
                case F32 -> { for (float v : part) buf.putFloat(v); }
                case F16 -> { for (float v : part) buf.putShort(Float.floatToFloat16(v)); }
                case BF16 -> { for (float v : part) buf.putShort(BFloat16.fromFloat(v)); }
            }
            writeFully(ch, buf.flip());
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void deleteQuietly(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }
}
