package io.jsteer.weights;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One memory-mapped {@code .safetensors} file.
 *
 * <p>Layout: an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * mapping tensor names to {@code {dtype, shape, data_offsets: [begin, end]}} (offsets relative to
 * the byte after the header), then the data. The whole file is mapped once; each tensor is a
 * slice of that mapping, so nothing is copied onto the heap. Every header entry is validated
 * before use: a hostile header cannot make us read outside the file or allocate unbounded memory.
 */
public final class SafeTensorsFile implements WeightSource {
    /** Headers beyond this are refused before being read (real ones are a few hundred KiB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, Arena arena, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps and validates {@code file}; throws {@link WeightsException} describing any defect. */
    public static SafeTensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) throw new WeightsException(file, "truncated: " + fileSize + " bytes, shorter than the 8-byte header length");
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, fileSize, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new WeightsException(file, "header length " + Long.toUnsignedString(headerLen)
                        + " is outside the sane range [2, " + MAX_HEADER_BYTES + "]");
            }
            if (8 + headerLen > fileSize) {
                throw new WeightsException(file, "truncated: header claims " + headerLen + " bytes but the file has only " + (fileSize - 8) + " after the length");
            }
            String header = decodeUtf8(file, all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE));
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, Tensor> tensors = parseHeader(file, header, data, meta);
            return new SafeTensorsFile(file, arena, tensors, Collections.unmodifiableMap(meta));
        } catch (IOException e) {
            arena.close();
            throw new WeightsException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static String decodeUtf8(Path file, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new WeightsException(file, "header is not valid UTF-8");
        }
    }

    private static Map<String, Tensor> parseHeader(Path file, String header, MemorySegment data, Map<String, String> meta) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new WeightsException(file, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new WeightsException(file, "header is not a JSON object");
        record Span(String name, long begin, long end) {}
        List<Span> spans = new ArrayList<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals("__metadata__")) {
                if (!node.isObject()) throw new WeightsException(file, "__metadata__ is not an object");
                node.fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            if (!node.isObject()) throw new WeightsException(file, name, "header entry is not an object");
            String dtypeName = node.path("dtype").asText(null);
            if (dtypeName == null) throw new WeightsException(file, name, "missing dtype");
            DType dtype = DType.fromSafetensors(dtypeName);
            if (dtype == null) throw new WeightsException(file, name, "unsupported dtype " + dtypeName + " (supported: F32, F16, BF16)");
            JsonNode shapeNode = node.path("shape");
            if (!shapeNode.isArray()) throw new WeightsException(file, name, "missing or non-array shape");
            long[] shape = new long[shapeNode.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                    throw new WeightsException(file, name, "shape entry " + d + " is not a non-negative integer");
                }
                shape[i] = d.asLong();
                try {
                    count = Math.multiplyExact(count, shape[i]);
                } catch (ArithmeticException overflow) {
                    throw new WeightsException(file, name, "shape " + shapeNode + " overflows");
                }
            }
            JsonNode off = node.path("data_offsets");
            if (!off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
                throw new WeightsException(file, name, "data_offsets must be [begin, end]");
            }
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin < 0 || end < begin) throw new WeightsException(file, name, "data_offsets [" + begin + ", " + end + "] are not ordered");
            if (end > data.byteSize()) {
                throw new WeightsException(file, name, "data_offsets end " + end + " lies beyond the data section (" + data.byteSize() + " bytes): file truncated?");
            }
            long expected;
            try {
                expected = Math.multiplyExact(count, dtype.bytes());
            } catch (ArithmeticException overflow) {
                throw new WeightsException(file, name, "shape " + shapeNode + " overflows");
            }
            if (end - begin != expected) {
                throw new WeightsException(file, name, "holds " + (end - begin) + " bytes but " + dtypeName + shapeNode + " needs " + expected);
            }
            spans.add(new Span(name, begin, end));
            tensors.put(name, new Tensor(name, dtype, shape, data.asSlice(begin, end - begin)));
        }
        spans.sort(Comparator.comparingLong(Span::begin));
        for (int i = 1; i < spans.size(); i++) {
            Span a = spans.get(i - 1), b = spans.get(i);
            if (b.begin() < a.end()) {
                throw new WeightsException(file, b.name(), "data overlaps tensor '" + a.name() + "'");
            }
        }
        return Collections.unmodifiableMap(tensors);
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
    public void close() {
        arena.close();
    }
}
