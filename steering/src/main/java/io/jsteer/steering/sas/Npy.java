/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.sas;

import io.jsteer.weights.WeightsException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads NumPy {@code .npy} arrays and {@code .npz} archives of them, converting to float32
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * <p>{@code .npy}: magic {@code \x93NUMPY}, major and minor version bytes, header length
 * ({@code u16} in version 1, {@code u32} in 2 and 3), an ASCII/UTF-8 Python dict literal
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (6, 10), }}, then the raw data.
 * Supported dtypes: little-endian floats {@code <f4}, {@code <f8} (rounded to float32) and
 * {@code <f2}; Fortran-ordered arrays are transposed to row-major. {@code .npz} is a zip archive
 * of {@code NAME.npy} entries (stored or deflated, as {@code numpy.savez} and
 * {@code savez_compressed} write them).
 */
public final class Npy {
    private Npy() {}

    /** An array in row-major (C) order. */
    public record Array(long[] shape, float[] data) {
        /** Number of elements (the product of the shape). */
        public long size() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        @Override
        public String toString() {
            return Arrays.toString(shape);
        }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Reads one {@code .npy} file. */
    public static Array read(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return parse(file, "", in, Files.size(file));
        } catch (NoSuchFileException e) {
            throw new WeightsException(file, "no such file", e);
        } catch (IOException e) {
            throw new WeightsException(file, "cannot read: " + WeightsException.describe(e), e);
        }
    }

    /** Reads every array of an {@code .npz} archive, keyed by entry name without {@code .npy}. */
    public static Map<String, Array> readNpz(Path file) {
        if (!Files.exists(file)) throw new WeightsException(file, "no such file");
        Map<String, Array> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) continue;
                if (!e.getName().endsWith(".npy")) throw new WeightsException(file, "archive entry '" + e.getName() + "' is not a .npy array");
                String name = e.getName().substring(0, e.getName().length() - 4);
                try (InputStream in = new BufferedInputStream(zip.getInputStream(e))) {
                    out.put(name, parse(file, "entry '" + e.getName() + "': ", in, e.getSize()));
                }
            }
        } catch (ZipException e) {
            throw new WeightsException(file, "not a valid .npz (zip) archive: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new WeightsException(file, "cannot read: " + WeightsException.describe(e), e);
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Parses one array from {@code in}, which holds {@code bytes} bytes (-1 when unknown); {@code
     * file} and {@code entry} (empty, or an archive entry) name it in errors. Memory follows the
     * bytes actually present, never the shape claimed: a shape larger than the stream is refused
     * before allocating, and where the length is unknown the array grows as data arrives.
     */
    static Array parse(Path file, String entry, InputStream in, long bytes) throws IOException {
        Source source = new Source(file, entry);
        byte[] magic = in.readNBytes(8);
        if (magic.length < 8 || !Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) throw bad(source, "not a .npy array (no \\x93NUMPY magic)");
        int major = magic[6];
        int headerLen;
        if (major == 1) {
            byte[] len = in.readNBytes(2);
            if (len.length < 2) throw bad(source, "truncated header length");
            headerLen = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        } else if (major == 2 || major == 3) {
            byte[] len = in.readNBytes(4);
            if (len.length < 4) throw bad(source, "truncated header length");
            headerLen = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (headerLen < 0 || headerLen > (1 << 24)) throw bad(source, "header length " + Integer.toUnsignedString(headerLen) + " is not plausible");
        } else {
            throw bad(source, ".npy format version " + major + "." + magic[7] + " is not supported (1.0, 2.0, 3.0)");
        }
        byte[] headerBytes = in.readNBytes(headerLen);
        if (headerBytes.length < headerLen) throw bad(source, "truncated header: " + headerBytes.length + " of " + headerLen + " bytes");
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(source, DESCR, header, "descr");
        boolean fortran = group(source, FORTRAN, header, "fortran_order").equals("True");
        long[] shape = shape(source, group(source, SHAPE, header, "shape"));
        int itemSize = switch (descr) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            case "<f2" -> 2;
            default -> throw bad(source, "dtype '" + descr + "' is not supported (expected a little-endian float: <f4, <f8 or <f2)");
        };
        long n = 1;
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
            Math.multiplyExact(n, itemSize);
        } catch (ArithmeticException overflow) {
            throw bad(source, "shape " + Arrays.toString(shape) + " overflows a 64-bit byte count");
        }
        if (n > Integer.MAX_VALUE - 8) throw bad(source, "array of " + n + " elements " + Arrays.toString(shape) + " is too large for one Java array");
        long prefix = 8 + (major == 1 ? 2 : 4) + headerLen;
        if (bytes >= 0 && n * itemSize > bytes - prefix) {
            throw bad(source, "truncated data: shape " + Arrays.toString(shape) + " of " + descr + " needs " + n * itemSize + " bytes but "
                    + Math.max(0, bytes - prefix) + " follow the header");
        }
        float[] data = readData(source, in, descr, itemSize, (int) n);
        if (fortran && shape.length > 1) data = toRowMajor(data, shape);
        return new Array(shape, data);
    }

    /** Reads {@code n} elements; the array doubles as data arrives, so a short stream never costs the claimed size. */
    private static float[] readData(Source source, InputStream in, String descr, int itemSize, int n) throws IOException {
        byte[] chunk = new byte[1 << 16];
        ByteBuffer b = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        long need = (long) n * itemSize, got = 0;
        float[] out = new float[Math.min(n, chunk.length)];
        int at = 0;
        while (got < need) {
            int want = (int) Math.min(chunk.length, need - got);
            int r = in.readNBytes(chunk, 0, want);
            if (r < want) throw bad(source, "truncated data: " + (got + r) + " of " + need + " bytes");
            if (at + r / itemSize > out.length) out = Arrays.copyOf(out, (int) Math.min(n, Math.max(2L * out.length, at + r / itemSize)));
            for (int p = 0; p < r; p += itemSize) {
                out[at++] = switch (descr) {
                    case "<f4" -> b.getFloat(p);
                    case "<f8" -> (float) b.getDouble(p);
                    default -> Float.float16ToFloat(b.getShort(p));
                };
            }
            got += r;
        }
        return out;
    }

    /** Column-major (Fortran) data to row-major: element with index (i0..ik) sits at sum i_j * prod(shape[<j]). */
    private static float[] toRowMajor(float[] f, long[] shape) {
        int rank = shape.length;
        float[] out = new float[f.length];
        int[] idx = new int[rank];
        for (int c = 0; c < out.length; c++) {
            int src = 0, stride = 1;
            for (int d = 0; d < rank; d++) {
                src += idx[d] * stride;
                stride *= (int) shape[d];
            }
            out[c] = f[src];
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    private static String group(Source source, Pattern p, String header, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw bad(source, "header has no valid '" + key + "' entry: " + header.strip());
        return m.group(1);
    }

    private static long[] shape(Source source, String text) {
        String[] parts = text.split(",");
        return Arrays.stream(parts).map(String::strip).filter(s -> !s.isEmpty()).mapToLong(s -> {
            try {
                long v = Long.parseLong(s);
                if (v < 0) throw bad(source, "negative dimension in shape (" + text + ")");
                return v;
            } catch (NumberFormatException e) {
                throw bad(source, "shape (" + text + ") is not a tuple of integers");
            }
        }).toArray();
    }

    private record Source(Path file, String entry) {}

    private static WeightsException bad(Source source, String message) {
        return new WeightsException(source.file(), source.entry() + message);
    }
}
