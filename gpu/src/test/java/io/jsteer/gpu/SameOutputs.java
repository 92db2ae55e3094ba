/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.weights.SafeTensorsFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Whether a command's output on the device agrees with its output on the CPU: folders file by
 * file (the same names); safetensors files tensor by tensor within {@link #TOLERANCE} of the
 * tensor's scale, and their metadata as text; any other file as text, the same between the
 * numbers, integers (counts, token ids, positions) equal and other numbers within
 * {@link #TOLERANCE} of max(1, |value|) or one unit of their last printed digit. Pictures are
 * drawn from numbers the command also writes as text (JSON, CSV), which are compared: a PNG file
 * must be an image of the same size, and a PNG embedded in HTML ({@code data:image/png;base64,})
 * is left out of the HTML's text. Also a command
 * line tool for scripts/test-gpu.sh: {@code SameOutputs CPU_OUTPUT DEVICE_OUTPUT} exits 1 with the
 * first difference.
 */
final class SameOutputs {
    /** The device's float sums differ from the CPU's by about 1e-6 of the scale; a 1e-4 difference is a bug. */
    static final double TOLERANCE = 1e-4;
    private static final Pattern EMBEDDED_PNG = Pattern.compile("data:image/png;base64,[A-Za-z0-9+/=]+");
    private static final Pattern NUMBER = Pattern.compile("-?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?");

    private SameOutputs() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: SameOutputs CPU_OUTPUT DEVICE_OUTPUT");
            System.exit(2);
        }
        try {
            assertSame(Path.of(args[0]), Path.of(args[1]));
        } catch (AssertionError | RuntimeException e) {
            System.err.println("outputs differ: " + e.getMessage());
            System.exit(1);
        }
        System.out.println(args[1] + " agrees with " + args[0]);
    }

    /** Two outputs, files or folders, agree: see the class comment. */
    static void assertSame(Path cpu, Path device) {
        if (Files.isDirectory(cpu)) {
            List<String> names = list(cpu);
            assertFalse(names.isEmpty(), cpu + " is empty");
            assertEquals(names, list(device), device.toString());
            for (String n : names) assertSame(cpu.resolve(n), device.resolve(n));
        } else if (cpu.toString().endsWith(".safetensors")) {
            try (SafeTensorsFile a = SafeTensorsFile.open(cpu); SafeTensorsFile b = SafeTensorsFile.open(device)) {
                assertEquals(a.names(), b.names(), device.toString());
                assertText(device + " metadata", a.metadata().toString(), b.metadata().toString());
                for (String t : a.names()) {
                    float[] x = a.tensor(t).toFloatArray(), y = b.tensor(t).toFloatArray();
                    assertEquals(x.length, y.length, device + " " + t);
                    double scale = 1, diff = 0;
                    for (int i = 0; i < x.length; i++) {
                        scale = Math.max(scale, Math.abs(x[i]));
                        diff = Math.max(diff, Math.abs(x[i] - y[i]));
                    }
                    assertTrue(diff <= TOLERANCE * scale, device + " " + t + ": max |device - cpu| = " + diff + " over scale " + scale);
                }
            }
        } else if (cpu.toString().endsWith(".png")) {
            try {
                BufferedImage a = ImageIO.read(cpu.toFile()), b = ImageIO.read(device.toFile());
                assertTrue(a != null && b != null, device + ": not a PNG image on both sides");
                assertEquals(a.getWidth() + "x" + a.getHeight(), b.getWidth() + "x" + b.getHeight(), device + ": image size");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            try {
                assertText(device.toString(), withoutImages(Files.readString(cpu)), withoutImages(Files.readString(device)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** {@code text} with the data of embedded PNG pictures left out. */
    private static String withoutImages(String text) {
        return EMBEDDED_PNG.matcher(text).replaceAll("data:image/png;base64,(picture)");
    }

    /** The same text between the numbers, and numbers within the tolerance. */
    private static void assertText(String what, String cpu, String device) {
        Matcher a = NUMBER.matcher(cpu), b = NUMBER.matcher(device);
        int endA = 0, endB = 0;
        while (true) {
            boolean more = a.find(), moreB = b.find();
            String gapA = cpu.substring(endA, more ? a.start() : cpu.length()), gapB = device.substring(endB, moreB ? b.start() : device.length());
            assertEquals(gapA, gapB, what + ": text differs after character " + endA);
            assertEquals(more, moreB, what + ": a number on one side only after character " + endA);
            if (!more) return;
            if (a.group().matches("-?\\d+")) {
                // counts, token ids, positions
                assertEquals(a.group(), b.group(), what + ": at character " + a.start());
            } else {
                double x = Double.parseDouble(a.group()), y = Double.parseDouble(b.group());
                double allowed = Math.max(TOLERANCE * Math.max(1, Math.abs(x)), lastDigit(a.group()));
                assertTrue(Math.abs(x - y) <= allowed, what + ": " + a.group() + " (cpu) vs " + b.group() + " (device) at character " + a.start());
            }
            endA = a.end();
            endB = b.end();
        }
    }

    /** One unit of the last digit printed: 0.0123 gives 1e-4, 1.5e-3 gives 1e-4. */
    private static double lastDigit(String number) {
        String[] parts = number.split("[eE]");
        int dot = parts[0].indexOf('.');
        double unit = dot < 0 ? 1 : Math.pow(10, -(parts[0].length() - dot - 1));
        return parts.length > 1 ? unit * Math.pow(10, Integer.parseInt(parts[1])) : unit;
    }

    private static List<String> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
