/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.weights;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
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
import java.nio.file.attribute.FileTime;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One memory-mapped {@code .safetensors} file.
 *
 * <p>Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
 * {@code N}, {@code N} bytes of UTF-8 JSON mapping tensor names to
 * {@code {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the byte after the
 * header) plus an optional {@code __metadata__} string map, then the data. The whole file is
 * mapped once; each tensor is a slice of that mapping, so nothing is copied onto the heap. Every
 * header entry is validated before use: a hostile header cannot make us read outside the file,
 * alias two tensors onto the same bytes, or allocate unbounded memory.
 */
public final class SafeTensorsFile implements WeightSource {
    /** Headers beyond this are refused before being read (real ones are a few hundred KiB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** The reserved header key holding the string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    /** Size and modification time when mapped, to notice a file changed under the mapping. */
    private final long size;
    private final FileTime modified;

    private SafeTensorsFile(Path path, Arena arena, Map<String, Tensor> tensors, Map<String, String> metadata, long size, FileTime modified) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
        this.size = size;
        this.modified = modified;
    }

    /** Maps and validates {@code file}; throws {@link WeightsException} describing any defect. */
    public static SafeTensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            FileTime modified = Files.getLastModifiedTime(file);
            long fileSize = ch.size();
            if (fileSize == 0) throw new WeightsException(file, "empty file, not a safetensors file");
            if (fileSize < 8) throw new WeightsException(file, "truncated: " + fileSize + " bytes, shorter than the 8-byte header length");
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, fileSize, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            // Unsigned on disk: a value with the top bit set reads as negative here and is refused too.
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new WeightsException(file, "not a safetensors file: its first 8 bytes give a header length of " + Long.toUnsignedString(headerLen)
                        + ", outside the sane range [2, " + MAX_HEADER_BYTES + "]");
            }
            if (8 + headerLen > fileSize) {
                throw new WeightsException(file, "truncated: header claims " + headerLen
                        + " bytes but the file has only " + (fileSize - 8) + " after the length");
            }
            String header = decodeUtf8(file, all.asSlice(8, headerLen).asByteBuffer());
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, Tensor> tensors = parseHeader(file, header, data, meta);
            return new SafeTensorsFile(file, arena, tensors, Collections.unmodifiableMap(meta), fileSize, modified);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new WeightsException(file, "no such file", e);
        } catch (IOException e) {
            arena.close();
            throw new WeightsException(file, "cannot read: " + WeightsException.describe(e), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new WeightsException(file, "header is not valid UTF-8");
        }
    }

    private record Span(String name, long begin, long end) {}

    private static Map<String, Tensor> parseHeader(Path file, String header, MemorySegment data, Map<String, String> meta) {
        JsonNode root;
        try {
            root = Json.STRICT.readTree(header);
        } catch (JacksonException e) {
            throw new WeightsException(file, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new WeightsException(file, "header is not a JSON object");
        List<Span> spans = new ArrayList<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals(METADATA_KEY)) {
                readMetadata(file, node, meta);
                continue;
            }
            if (!node.isObject()) throw new WeightsException(file, name, "header entry is not an object");
            JsonNode dtypeNode = node.get("dtype");
            if (dtypeNode == null || !dtypeNode.isTextual()) throw new WeightsException(file, name, "missing or non-string dtype");
            DType dtype = DType.fromSafetensors(dtypeNode.asText());
            if (dtype == null) {
                throw new WeightsException(file, name, "unsupported dtype " + dtypeNode.asText() + " (supported: " + DType.supported() + ")");
            }
            long[] shape = readShape(file, name, node.get("shape"));
            long expected = byteSize(file, name, shape, dtype);
            Span span = readOffsets(file, name, node.get("data_offsets"), data.byteSize());
            if (span.end() - span.begin() != expected) {
                throw new WeightsException(file, name, "data_offsets [" + span.begin() + ", " + span.end() + "] hold "
                        + (span.end() - span.begin()) + " bytes but " + dtype + " " + Arrays.toString(shape)
                        + " needs " + expected);
            }
            spans.add(span);
            tensors.put(name, new Tensor(name, dtype, shape, data.asSlice(span.begin(), expected)));
        }
        checkDisjoint(file, spans);
        return Collections.unmodifiableMap(tensors);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> meta) {
        if (!node.isObject()) throw new WeightsException(file, METADATA_KEY + " is not an object");
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new WeightsException(file, METADATA_KEY + " entry '" + m.getKey() + "' is not a string: " + m.getValue());
            }
            meta.put(m.getKey(), m.getValue().asText());
        }
    }

    private static long[] readShape(Path file, String name, JsonNode shapeNode) {
        if (shapeNode == null || !shapeNode.isArray()) throw new WeightsException(file, name, "missing or non-array shape");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new WeightsException(file, name, "shape entry " + d + " is not a non-negative integer");
            }
            shape[i] = d.asLong();
        }
        return shape;
    }

    private static long byteSize(Path file, String name, long[] shape, DType dtype) {
        try {
            long n = dtype.bytes();
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        } catch (ArithmeticException overflow) {
            throw new WeightsException(file, name, "shape " + Arrays.toString(shape) + " overflows a 64-bit byte count");
        }
    }

    private static Span readOffsets(Path file, String name, JsonNode off, long dataBytes) {
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new WeightsException(file, name, "data_offsets must be an array [begin, end]");
        }
        for (JsonNode o : off) {
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
                throw new WeightsException(file, name, "data_offsets entry " + o + " is not a non-negative integer");
            }
        }
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (end < begin) throw new WeightsException(file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end > dataBytes) {
            throw new WeightsException(file, name, "data_offsets end " + end + " lies beyond the data section ("
                    + dataBytes + " bytes): file truncated?");
        }
        return new Span(name, begin, end);
    }

    /** Tensors must not share bytes: writing through one view would silently change another. */
    private static void checkDisjoint(Path file, List<Span> spans) {
        spans.sort(Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
        for (int i = 1; i < spans.size(); i++) {
            Span a = spans.get(i - 1), b = spans.get(i);
            if (b.begin() < a.end()) {
                throw new WeightsException(file, b.name(), "data_offsets [" + b.begin() + ", " + b.end()
                        + "] overlap tensor '" + a.name() + "' [" + a.begin() + ", " + a.end() + "]");
            }
        }
    }

    /** The {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new WeightsException(path, name, "missing");
        return t;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public void checkUnchanged() {
        long nowSize;
        FileTime nowModified;
        try {
            nowSize = Files.size(path);
            nowModified = Files.getLastModifiedTime(path);
        } catch (IOException e) {
            throw new WeightsException(path, "can no longer be read (" + e.getMessage() + ") since it was loaded; load the model again");
        }
        if (nowSize != size || !nowModified.equals(modified)) {
            throw new WeightsException(path, "changed on disk since it was loaded (size " + size + " -> " + nowSize + " bytes, modified "
                    + modified + " -> " + nowModified + "); load the model again");
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
