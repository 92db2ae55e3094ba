/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A memory-mapped GGUF version 3 file (ggml's container,
 * https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): llama.cpp's model files and control
 * vectors.
 *
 * <p>Layout, little-endian: magic {@code "GGUF"}, {@code u32} version, {@code u64} tensor count,
 * {@code u64} metadata count; metadata entries {@code (string key, u32 type, value)}; tensor infos
 * {@code (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)}; zero padding to
 * the alignment ({@code general.alignment}, default 32); then the data section, in which every
 * tensor starts at its offset and is padded to the alignment, as ggml's writer does and its
 * reader checks. Strings are {@code u64} length + UTF-8 bytes.
 *
 * <p>The whole file is mapped once and every count, length and offset is checked against its size
 * before it is used, so a damaged or hostile file is refused with the field named instead of
 * making us read outside it or allocate what it cannot back. {@code ne[0]} is the fastest-varying
 * dimension: a matrix of {@code ne = [cols, rows]} is the row-major {@code [rows][cols]} tensor of
 * {@link #tensor}.
 */
public final class GgufFile implements WeightSource {
    /** The alignment used when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    /** GGUF metadata value types (gguf_type in ggml's gguf.h). */
    public static final int TYPE_UINT8 = 0, TYPE_INT8 = 1, TYPE_UINT16 = 2, TYPE_INT16 = 3, TYPE_UINT32 = 4, TYPE_INT32 = 5,
            TYPE_FLOAT32 = 6, TYPE_BOOL = 7, TYPE_STRING = 8, TYPE_ARRAY = 9, TYPE_UINT64 = 10, TYPE_INT64 = 11, TYPE_FLOAT64 = 12;
    private static final int MAX_DIMS = 4;
    /** ggml's names of the type ids jsteer does not read, for error messages. */
    private static final Map<Integer, String> OTHER_TYPES = Map.ofEntries(Map.entry(3, "Q4_1"), Map.entry(7, "Q5_1"),
            Map.entry(9, "Q8_1"), Map.entry(10, "Q2_K"), Map.entry(11, "Q3_K"), Map.entry(15, "Q8_K"), Map.entry(16, "IQ2_XXS"),
            Map.entry(17, "IQ2_XS"), Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"), Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"),
            Map.entry(22, "IQ2_S"), Map.entry(23, "IQ4_XS"), Map.entry(24, "I8"), Map.entry(25, "I16"), Map.entry(26, "I32"),
            Map.entry(27, "I64"), Map.entry(28, "F64"), Map.entry(29, "IQ1_M"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"),
            Map.entry(39, "MXFP4"));

    /** One tensor: name, dimensions in ggml order ({@code ne[0]} fastest), type, and offset in the data section. */
    public record TensorInfo(String name, long[] dims, DType type, long offset) {
        /** Number of elements (the product of the dimensions). */
        public long elements() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        /** The row-major shape: {@code dims} reversed. */
        public long[] shape() {
            long[] s = new long[dims.length];
            for (int i = 0; i < s.length; i++) s[i] = dims[dims.length - 1 - i];
            return s;
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final int version, alignment;
    private final long dataOffset;
    private final Map<String, Object> metadata;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;

    private GgufFile(Path path, Arena arena, MemorySegment data, int version, int alignment, long dataOffset,
                     Map<String, Object> metadata, List<TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.version = version;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensors = tensors;
        this.byName = new LinkedHashMap<>();
        for (TensorInfo t : tensors) byName.put(t.name(), t);
    }

    /** Maps and checks a GGUF file; every defect is reported with the file and what is wrong. */
    public static GgufFile read(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment all = size == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(file, arena, all);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new WeightsException(file, "no such file", e);
        } catch (IOException e) {
            arena.close();
            throw new WeightsException(file, "cannot read: " + e, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path file, Arena arena, MemorySegment all) {
        Cursor b = new Cursor(file, all);
        if (all.byteSize() < 4 || b.u32() != MAGIC) throw new WeightsException(file, "not a GGUF file (magic is not 'GGUF')");
        int version = b.u32();
        if (version != 3) throw new WeightsException(file, "GGUF version " + version + " is not supported (expected 3)");
        long nTensors = b.u64(), nKv = b.u64();
        // each entry takes at least 8 bytes, which bounds any honest count by the file size
        if (nTensors < 0 || nTensors > all.byteSize() / 8) throw new WeightsException(file, "tensor count " + Long.toUnsignedString(nTensors) + " is impossible for a file of " + all.byteSize() + " bytes");
        if (nKv < 0 || nKv > all.byteSize() / 8) throw new WeightsException(file, "metadata count " + Long.toUnsignedString(nKv) + " is impossible for a file of " + all.byteSize() + " bytes");
        Map<String, Object> meta = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = b.string();
            int type = b.u32();
            Object value = b.value(type, key);
            if (meta.putIfAbsent(key, value) != null) throw new WeightsException(file, "metadata key '" + key + "' appears twice");
        }
        int align = DEFAULT_ALIGNMENT;
        Object a = meta.get("general.alignment");
        if (a != null) {
            if (!(a instanceof Long l) || l <= 0 || Long.bitCount(l) != 1 || l > (1 << 20)) throw new WeightsException(file, "general.alignment " + a + " is not a power of two u32");
            align = (int) (long) l;
        }
        List<TensorInfo> infos = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            String name = b.string();
            if (!names.add(name)) throw new WeightsException(file, "tensor '" + name + "' appears twice");
            int nd = b.u32();
            if (nd < 1 || nd > MAX_DIMS) throw new WeightsException(file, name, "has " + nd + " dimensions (ggml allows 1.." + MAX_DIMS + ")");
            long[] dims = new long[nd];
            long elements = 1;
            for (int d = 0; d < nd; d++) {
                dims[d] = b.u64();
                if (dims[d] < 0) throw new WeightsException(file, name, "dimension " + d + " is " + Long.toUnsignedString(dims[d]) + ", larger than any file");
                elements = Math.multiplyHigh(elements, dims[d]) != 0 || elements * dims[d] < 0 ? -1 : elements * dims[d];
                if (elements < 0) throw new WeightsException(file, name, "dimensions " + Arrays.toString(Arrays.copyOf(dims, d + 1)) + " overflow a 64-bit element count");
            }
            int typeId = b.u32();
            DType type = DType.fromGgml(typeId & 0xffffffffL);
            if (type == null) {
                String known = OTHER_TYPES.get(typeId);
                throw new WeightsException(file, name, (known != null ? "has ggml type " + known + " (" + typeId + "), which jsteer does not read"
                        : "has unknown ggml type id " + Integer.toUnsignedString(typeId)) + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K)");
            }
            if (dims[0] % type.blockSize() != 0) {
                throw new WeightsException(file, name, "row of " + dims[0] + " elements is not a whole number of " + type + " blocks of " + type.blockSize());
            }
            long offset = b.u64();
            if (offset < 0 || offset % align != 0) throw new WeightsException(file, name, "offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + align);
            infos.add(new TensorInfo(name, dims, type, offset));
        }
        long dataOffset = pad(b.position(), align);
        // ggml's reader insists each tensor starts where the previous one's padded data ends
        long expected = 0;
        for (TensorInfo t : infos) {
            if (t.offset() != expected) {
                throw new WeightsException(file, t.name(), "offset " + t.offset() + ", expected " + expected + " (tensors are packed in order, each padded to " + align + " bytes)");
            }
            long bytes = t.type().bytesOf(t.elements());
            long start = dataOffset + t.offset();
            if (bytes > all.byteSize() || start + bytes > all.byteSize()) {
                throw new WeightsException(file, t.name(), "data [" + start + ", " + (start + bytes) + ") lies beyond the end of the file (" + all.byteSize() + " bytes)");
            }
            expected += pad(bytes, align);
        }
        MemorySegment data = all.asSlice(Math.min(dataOffset, all.byteSize()));
        return new GgufFile(file, arena, data, version, align, dataOffset, Collections.unmodifiableMap(meta), List.copyOf(infos));
    }

    /** The file's GGUF version. */
    public int version() {
        return version;
    }

    /** The alignment of the tensor data, in bytes. */
    public int alignment() {
        return alignment;
    }

    /** Byte offset of the data section in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    /**
     * The metadata: integers as {@link Long}, floats as {@link Double}, {@link Boolean},
     * {@link String}, arrays as unmodifiable {@link List}s of those.
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The tensor infos in file order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** The tensor of this name, mapped, in row-major shape ({@code ne} reversed). */
    @Override
    public Tensor tensor(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) throw new WeightsException(path, "missing tensor '" + name + "'");
        return new Tensor(name, t.type(), t.shape(), data.asSlice(t.offset(), t.type().bytesOf(t.elements())));
    }

    /** The values of the tensor of this name as float32. */
    public float[] floats(String name) {
        return tensor(name).toFloatArray();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    @Override
    public Path path() {
        return path;
    }

    /** Unmaps the file; tensors obtained before must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }

    static long pad(long n, int align) {
        return (n + align - 1) / align * align;
    }

    /** Reads header fields from the mapping, refusing to step past its end. */
    private static final class Cursor {
        private final Path file;
        private final MemorySegment s;
        private long pos;

        Cursor(Path file, MemorySegment s) {
            this.file = file;
            this.s = s;
        }

        long position() {
            return pos;
        }

        private long take(long n) {
            if (n > s.byteSize() - pos) throw new WeightsException(file, "truncated: the file ends inside the header (" + s.byteSize() + " bytes)");
            long at = pos;
            pos += n;
            return at;
        }

        byte u8() {
            return s.get(ValueLayout.JAVA_BYTE, take(1));
        }

        short u16() {
            return s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(2));
        }

        int u32() {
            return s.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(4));
        }

        long u64() {
            return s.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(8));
        }

        String string() {
            long n = u64();
            if (n < 0 || n > s.byteSize() - pos) throw new WeightsException(file, "string of " + Long.toUnsignedString(n) + " bytes at offset " + (pos - 8) + " runs past the end of the file");
            ByteBuffer bytes = s.asSlice(take(n), n).asByteBuffer();
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
            } catch (CharacterCodingException e) {
                throw new WeightsException(file, "string at offset " + (pos - n) + " is not valid UTF-8");
            }
        }

        Object value(int type, String key) {
            return switch (type) {
                case TYPE_UINT8 -> (long) (u8() & 0xff);
                case TYPE_INT8 -> (long) u8();
                case TYPE_UINT16 -> (long) (u16() & 0xffff);
                case TYPE_INT16 -> (long) u16();
                case TYPE_UINT32 -> u32() & 0xffffffffL;
                case TYPE_INT32 -> (long) u32();
                case TYPE_FLOAT32 -> (double) Float.intBitsToFloat(u32());
                case TYPE_BOOL -> {
                    byte v = u8();
                    if (v != 0 && v != 1) throw new WeightsException(file, "metadata '" + key + "': bool byte " + v + " is neither 0 nor 1");
                    yield v == 1;
                }
                case TYPE_STRING -> string();
                case TYPE_ARRAY -> {
                    int elemType = u32();
                    long n = u64();
                    if (n < 0 || n > s.byteSize() - pos) throw new WeightsException(file, "metadata '" + key + "': array of " + Long.toUnsignedString(n) + " elements is longer than the file");
                    if (elemType == TYPE_ARRAY) throw new WeightsException(file, "metadata '" + key + "': arrays of arrays are not supported");
                    List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 20));
                    for (long i = 0; i < n; i++) list.add(value(elemType, key));
                    yield Collections.unmodifiableList(list);
                }
                case TYPE_UINT64 -> {
                    long v = u64();
                    if (v < 0) throw new WeightsException(file, "metadata '" + key + "': u64 " + Long.toUnsignedString(v) + " does not fit a signed 64-bit value");
                    yield v;
                }
                case TYPE_INT64 -> u64();
                case TYPE_FLOAT64 -> Double.longBitsToDouble(u64());
                default -> throw new WeightsException(file, "metadata '" + key + "' has unknown GGUF type " + Integer.toUnsignedString(type));
            };
        }
    }

    /** A metadata value with its GGUF type, for writing. Arrays hold a {@link List} of one element type. */
    public record Value(int type, int elementType, Object value) {
        /** A string value. */
        public static Value string(String s) {
            return new Value(TYPE_STRING, -1, s);
        }

        /** A signed 32-bit value. */
        public static Value int32(int v) {
            return new Value(TYPE_INT32, -1, v);
        }

        /** An unsigned 32-bit value (its bits given as an int). */
        public static Value uint32(int v) {
            return new Value(TYPE_UINT32, -1, v);
        }

        /** A 32-bit float value. */
        public static Value float32(float v) {
            return new Value(TYPE_FLOAT32, -1, v);
        }

        /** A boolean value. */
        public static Value bool(boolean v) {
            return new Value(TYPE_BOOL, -1, v);
        }

        /** An array of strings, int32s or float32s ({@code elementType} one of those GGUF types). */
        public static Value array(int elementType, List<?> values) {
            if (elementType != TYPE_STRING && elementType != TYPE_INT32 && elementType != TYPE_FLOAT32) {
                throw new IllegalArgumentException("arrays of GGUF type " + elementType + " are not supported for writing");
            }
            return new Value(TYPE_ARRAY, elementType, List.copyOf(values));
        }
    }

    /** Fills a tensor's bytes in the output mapping. */
    @FunctionalInterface
    public interface Filler {
        /** Writes the tensor's bytes into {@code out}, which is exactly as long as the tensor. */
        void fill(MemorySegment out);
    }

    /** One tensor to write: its row-major {@code shape} (written reversed, as {@code ne}), type and a filler of {@code type.bytesOf(elements)} bytes. */
    public record Entry(String name, DType type, long[] shape, Filler filler) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /**
     * Writes a GGUF v3 file holding {@code metadata} and {@code tensors} (in the given order) with
     * the default alignment, atomically: the data goes to a temporary file beside the target that
     * is moved over it once complete, so no partial file is ever seen and a failure leaves a
     * previous file untouched. The data is written through a mapping, so no tensor is held on the heap.
     */
    public static void write(Path file, Map<String, Value> metadata, List<Entry> tensors) {
        int align = DEFAULT_ALIGNMENT;
        Out out = new Out();
        out.u32(MAGIC).u32(3).u64(tensors.size()).u64(metadata.size());
        metadata.forEach((key, v) -> {
            out.string(key).u32(v.type());
            if (v.type() == TYPE_ARRAY) {
                List<?> list = (List<?>) v.value();
                out.u32(v.elementType()).u64(list.size());
                for (Object o : list) out.scalar(key, v.elementType(), o);
            } else {
                out.scalar(key, v.type(), v.value());
            }
        });
        long offset = 0;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Entry t = tensors.get(i);
            out.string(t.name()).u32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) out.u64(t.shape()[d]);
            out.u32(t.type().ggmlType()).u64(offset);
            offsets[i] = offset;
            offset += pad(t.type().bytesOf(t.elements()), align);
        }
        out.padTo(align);
        byte[] header = out.bytes();
        long total = header.length + offset;

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) throw new WeightsException(file, "cannot write: directory " + dir + " does not exist");
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 Arena arena = Arena.ofConfined()) {
                MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                MemorySegment.copy(MemorySegment.ofArray(header), 0, m, 0, header.length);
                for (int i = 0; i < tensors.size(); i++) {
                    Entry t = tensors.get(i);
                    t.filler().fill(m.asSlice(header.length + offsets[i], t.type().bytesOf(t.elements())));
                }
                m.force();
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

    /** Writes 1-D F32 {@code tensors} (a control vector's layout), see {@link #write(Path, Map, List)}. */
    public static void writeVectors(Path file, Map<String, Value> metadata, Map<String, float[]> tensors) {
        List<Entry> entries = new ArrayList<>();
        tensors.forEach((name, values) -> entries.add(new Entry(name, DType.F32, new long[] {values.length},
                out -> MemorySegment.copy(values, 0, out, Tensor.F32, 0, values.length))));
        write(file, metadata, entries);
    }

    private static void deleteQuietly(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class Out {
        private ByteBuffer buf = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);

        private Out room(int n) {
            if (buf.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                bigger.put(buf.flip());
                buf = bigger;
            }
            return this;
        }

        Out u32(int v) {
            room(4).buf.putInt(v);
            return this;
        }

        Out u64(long v) {
            room(8).buf.putLong(v);
            return this;
        }

        Out string(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            u64(utf8.length);
            room(utf8.length).buf.put(utf8);
            return this;
        }

        void scalar(String key, int type, Object v) {
            switch (type) {
                case TYPE_STRING -> string((String) v);
                case TYPE_INT32, TYPE_UINT32 -> u32((Integer) v);
                case TYPE_FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
                case TYPE_BOOL -> room(1).buf.put((byte) ((Boolean) v ? 1 : 0));
                default -> throw new IllegalArgumentException("metadata '" + key + "': writing GGUF type " + type + " is not supported");
            }
        }

        void padTo(int align) {
            int n = (int) (pad(buf.position(), align) - buf.position());
            room(n);
            for (int i = 0; i < n; i++) buf.put((byte) 0);
        }

        byte[] bytes() {
            byte[] out = new byte[buf.position()];
            buf.get(0, out);
            return out;
        }
    }
}
