/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.vector;

import io.jsteer.weights.WeightsException;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes GGUF version 3 files (ggml's container, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md),
 * enough for control vectors: all metadata value types are read, F32 tensors are read and written.
 *
 * <p>Layout, little-endian: magic {@code "GGUF"}, {@code u32} version, {@code u64} tensor count,
 * {@code u64} metadata count; metadata entries {@code (string key, u32 type, value)}; tensor infos
 * {@code (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)}; zero padding to
 * the alignment ({@code general.alignment}, default 32); then the data section, in which every
 * tensor starts at its offset and is padded to the alignment, as ggml's writer does and its
 * reader checks. Strings are {@code u64} length + UTF-8 bytes.
 */
public record GgufFile(int version, Map<String, Object> metadata, List<TensorInfo> tensors, int alignment, long dataOffset) {
    /** ggml's type id of float32 tensors. */
    public static final int GGML_TYPE_F32 = 0;
    /** The alignment used when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;

    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int TYPE_UINT8 = 0, TYPE_INT8 = 1, TYPE_UINT16 = 2, TYPE_INT16 = 3, TYPE_UINT32 = 4, TYPE_INT32 = 5,
            TYPE_FLOAT32 = 6, TYPE_BOOL = 7, TYPE_STRING = 8, TYPE_ARRAY = 9, TYPE_UINT64 = 10, TYPE_INT64 = 11, TYPE_FLOAT64 = 12;
    private static final int MAX_DIMS = 4;

    /**
     * One tensor: name, dimensions in ggml order ({@code ne[0]} fastest), ggml type, offset in the
     * data section, and its values when it is F32 (null otherwise).
     */
    public record TensorInfo(String name, long[] dims, int type, long offset, float[] values) {
        public long elements() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }
    }

    /** A metadata value with its GGUF type, for writing. */
    public record Value(int type, Object value) {
        public static Value string(String s) {
            return new Value(TYPE_STRING, s);
        }

        public static Value int32(int v) {
            return new Value(TYPE_INT32, v);
        }

        public static Value uint32(int v) {
            return new Value(TYPE_UINT32, v);
        }
    }

    /**
     * Writes a GGUF v3 file holding {@code metadata} and 1-D F32 {@code tensors} (in the given order),
     * atomically. Values must be string, int32 or uint32.
     */
    public static void write(Path file, Map<String, Value> metadata, Map<String, float[]> tensors) {
        int align = DEFAULT_ALIGNMENT;
        Out out = new Out();
        out.u32(MAGIC).u32(3).u64(tensors.size()).u64(metadata.size());
        metadata.forEach((key, v) -> {
            out.string(key).u32(v.type());
            switch (v.type()) {
                case TYPE_STRING -> out.string((String) v.value());
                case TYPE_INT32, TYPE_UINT32 -> out.u32((Integer) v.value());
                default -> throw new IllegalArgumentException("metadata '" + key + "': writing GGUF type " + v.type() + " is not supported");
            }
        });
        long offset = 0;
        for (Map.Entry<String, float[]> t : tensors.entrySet()) {
            out.string(t.getKey()).u32(1).u64(t.getValue().length).u32(GGML_TYPE_F32).u64(offset);
            offset += pad((long) t.getValue().length * 4, align);
        }
        out.padTo(align);
        for (float[] values : tensors.values()) {
            for (float f : values) out.f32(f);
            out.padTo(align);
        }
        io.jsteer.steering.eval.AtomicFiles.write(file, out.bytes());
    }

    /** Reads and checks a GGUF file; every defect is reported with the file and what is wrong. */
    public static GgufFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new WeightsException(file, "no such file", e);
        } catch (IOException e) {
            throw new WeightsException(file, "cannot read: " + WeightsException.describe(e), e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            return parse(file, b);
        } catch (BufferUnderflowException e) {
            throw new WeightsException(file, "truncated: the file ends inside the header (" + bytes.length + " bytes)");
        }
    }

    private static GgufFile parse(Path file, ByteBuffer b) {
        if (b.remaining() < 4 || b.getInt() != MAGIC) throw new WeightsException(file, "not a GGUF file (magic is not 'GGUF')");
        int version = b.getInt();
        if (version != 3) throw new WeightsException(file, "GGUF version " + version + " is not supported (expected 3)");
        long nTensors = b.getLong(), nKv = b.getLong();
        // each entry takes at least 8 bytes, which bounds any honest count by the file size
        if (nTensors < 0 || nTensors > b.capacity() / 8) throw new WeightsException(file, "tensor count " + Long.toUnsignedString(nTensors) + " is impossible for a file of " + b.capacity() + " bytes");
        if (nKv < 0 || nKv > b.capacity() / 8) throw new WeightsException(file, "metadata count " + Long.toUnsignedString(nKv) + " is impossible for a file of " + b.capacity() + " bytes");
        Map<String, Object> meta = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = string(file, b);
            int type = b.getInt();
            Object value = value(file, b, type, key);
            if (meta.putIfAbsent(key, value) != null) throw new WeightsException(file, "metadata key '" + key + "' appears twice");
        }
        int align = DEFAULT_ALIGNMENT;
        Object a = meta.get("general.alignment");
        if (a != null) {
            if (!(a instanceof Long l) || l <= 0 || Long.bitCount(l) != 1 || l > (1 << 20)) throw new WeightsException(file, "general.alignment " + a + " is not a power of two u32");
            align = (int) (long) l;
        }
        List<TensorInfo> infos = new ArrayList<>();
        List<String> names = new ArrayList<>();
        long[][] dims = new long[(int) nTensors][];
        int[] types = new int[(int) nTensors];
        long[] offsets = new long[(int) nTensors];
        for (int i = 0; i < nTensors; i++) {
            String name = string(file, b);
            if (names.contains(name)) throw new WeightsException(file, "tensor '" + name + "' appears twice");
            names.add(name);
            int nd = b.getInt();
            if (nd < 1 || nd > MAX_DIMS) throw new WeightsException(file, name, "has " + nd + " dimensions (ggml allows 1.." + MAX_DIMS + ")");
            dims[i] = new long[nd];
            for (int d = 0; d < nd; d++) {
                dims[i][d] = b.getLong();
                if (dims[i][d] < 0) throw new WeightsException(file, name, "dimension " + d + " is negative");
            }
            types[i] = b.getInt();
            offsets[i] = b.getLong();
            if (offsets[i] < 0 || offsets[i] % align != 0) throw new WeightsException(file, name, "offset " + offsets[i] + " is not a multiple of the alignment " + align);
        }
        long dataOffset = pad(b.position(), align);
        // ggml's reader insists each tensor starts where the previous one's padded data ends;
        // the size of non-F32 types is not known here, so the check stops at the first one
        long expected = 0;
        for (int i = 0; i < nTensors; i++) {
            String name = names.get(i);
            float[] values = null;
            if (expected >= 0 && offsets[i] != expected) {
                throw new WeightsException(file, name, "offset " + offsets[i] + ", expected " + expected + " (tensors are packed in order, each padded to " + align + " bytes)");
            }
            if (types[i] != GGML_TYPE_F32) expected = -1;
            if (types[i] == GGML_TYPE_F32) {
                long n = 1;
                for (long d : dims[i]) n = n > Integer.MAX_VALUE ? n : n * Math.min(d, 1L << 31); // saturates instead of overflowing; refused just below
                long start = dataOffset + offsets[i];
                if (n > Integer.MAX_VALUE / 4 || start + n * 4 > b.capacity()) {
                    throw new WeightsException(file, name, "data [" + start + ", " + (start + n * 4) + ") lies beyond the end of the file (" + b.capacity() + " bytes)");
                }
                values = new float[(int) n];
                for (int j = 0; j < n; j++) values[j] = b.getFloat((int) (start + 4L * j));
                if (expected >= 0) expected += pad(n * 4, align);
            }
            infos.add(new TensorInfo(name, dims[i], types[i], offsets[i], values));
        }
        if (expected > 0 && dataOffset + expected > b.capacity()) {
            throw new WeightsException(file, "truncated: the data section needs " + expected + " bytes from offset " + dataOffset + " but the file has " + b.capacity());
        }
        return new GgufFile(version, Collections.unmodifiableMap(meta), List.copyOf(infos), align, dataOffset);
    }

    private static Object value(Path file, ByteBuffer b, int type, String key) {
        return switch (type) {
            case TYPE_UINT8 -> (long) (b.get() & 0xff);
            case TYPE_INT8 -> (long) b.get();
            case TYPE_UINT16 -> (long) (b.getShort() & 0xffff);
            case TYPE_INT16 -> (long) b.getShort();
            case TYPE_UINT32 -> b.getInt() & 0xffffffffL;
            case TYPE_INT32 -> (long) b.getInt();
            case TYPE_FLOAT32 -> (double) b.getFloat();
            case TYPE_BOOL -> {
                byte v = b.get();
                if (v != 0 && v != 1) throw new WeightsException(file, "metadata '" + key + "': bool byte " + v + " is neither 0 nor 1");
                yield v == 1;
            }
            case TYPE_STRING -> string(file, b);
            case TYPE_ARRAY -> {
                int elemType = b.getInt();
                long n = b.getLong();
                if (n < 0 || n > b.remaining()) throw new WeightsException(file, "metadata '" + key + "': array of " + Long.toUnsignedString(n) + " elements is longer than the file");
                List<Object> list = new ArrayList<>();
                for (long i = 0; i < n; i++) list.add(value(file, b, elemType, key));
                yield Collections.unmodifiableList(list);
            }
            case TYPE_UINT64 -> {
                long v = b.getLong();
                if (v < 0) throw new WeightsException(file, "metadata '" + key + "': u64 " + Long.toUnsignedString(v) + " does not fit a signed 64-bit value");
                yield v;
            }
            case TYPE_INT64 -> b.getLong();
            case TYPE_FLOAT64 -> b.getDouble();
            default -> throw new WeightsException(file, "metadata '" + key + "' has unknown GGUF type " + type);
        };
    }

    private static String string(Path file, ByteBuffer b) {
        long n = b.getLong();
        if (n < 0 || n > b.remaining()) throw new WeightsException(file, "string of " + Long.toUnsignedString(n) + " bytes at offset " + (b.position() - 8) + " runs past the end of the file");
        byte[] s = new byte[(int) n];
        b.get(s);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(s)).toString();
        } catch (CharacterCodingException e) {
            throw new WeightsException(file, "string at offset " + (b.position() - n) + " is not valid UTF-8");
        }
    }

    static long pad(long n, int align) {
        return (n + align - 1) / align * align;
    }

    /** A growable little-endian byte buffer. */
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

        Out f32(float v) {
            room(4).buf.putFloat(v);
            return this;
        }

        Out string(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            u64(utf8.length);
            room(utf8.length).buf.put(utf8);
            return this;
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
