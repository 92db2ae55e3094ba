/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Tells a handler that waits for the engine whether its client has closed the connection, before
 * anything is written. Helidon finds a closed connection only when a write fails, and reading the
 * socket to find its end is Helidon's own business, so a non-streaming request whose client left
 * would otherwise run to its end and hold its batch slot.
 *
 * <p>The kernel knows: a connection whose client closed it is in state {@code CLOSE_WAIT} (the
 * client's FIN arrived) or gone from the table (its RST arrived). On Linux this reads the
 * connection tables {@code /proc/net/tcp} and {@code /proc/net/tcp6} (one line per socket: local
 * and remote address as hexadecimal words in the machine's byte order, then the state), at most
 * once per {@link #REFRESH_NANOS} for all requests together. Where there are no such tables, or the
 * request's connection is not in them, a request is never taken for gone and runs to its end.
 */
final class ClientWatch {
    private static final BooleanSupplier NEVER = () -> false;
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    /** The kernel's TCP_ESTABLISHED, as the tables write it. */
    private static final int ESTABLISHED = 0x01;
    /** How old a reading of the tables may be when a handler asks. */
    static final long REFRESH_NANOS = 100_000_000L;

    private record Connection(InetSocketAddress local, InetSocketAddress remote) {}

    private final List<Path> tables;
    private Map<Connection, Integer> states;
    private long readAt;

    ClientWatch() {
        this(TABLES);
    }

    ClientWatch(List<Path> tables) {
        this.tables = List.copyOf(tables);
    }

    /**
     * Returns a test that turns true once the client of {@code req} has closed the connection
     * (at once if it already has).
     */
    BooleanSupplier watch(ServerRequest req) {
        if (!(req.localPeer().address() instanceof InetSocketAddress local) || !(req.remotePeer().address() instanceof InetSocketAddress remote)) {
            return NEVER;
        }
        return watch(local, remote);
    }

    /** As {@link #watch(ServerRequest)}, for the connection from {@code remote} to {@code local}. */
    BooleanSupplier watch(InetSocketAddress local, InetSocketAddress remote) {
        Connection c = new Connection(local, remote);
        Map<Connection, Integer> now = states(0);
        // not in the table: not a connection this can tell about (or one reset already, which the next write finds)
        if (now == null || !now.containsKey(c)) return NEVER;
        return () -> {
            Map<Connection, Integer> later = states(REFRESH_NANOS);
            return later != null && !Integer.valueOf(ESTABLISHED).equals(later.get(c));
        };
    }

    /** The state of every TCP connection, read at most {@code maxAge} ago; null where the tables cannot be read. */
    private synchronized Map<Connection, Integer> states(long maxAge) {
        long t = System.nanoTime();
        if (states == null || t - readAt >= maxAge) {
            states = read();
            readAt = t;
        }
        return states;
    }

    private Map<Connection, Integer> read() {
        Map<Connection, Integer> out = new HashMap<>();
        boolean any = false;
        for (Path table : tables) {
            try (Stream<String> lines = Files.lines(table)) {
                lines.skip(1).forEach(line -> parse(line, out));
                any = true;
            } catch (NoSuchFileException e) {
                // no IPv6, or not Linux
            } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                return null;
            }
        }
        return any ? out : null;
    }

    /** {@code "  0: 0100007F:1F90 0100007F:B2C4 01 ..."}: slot, local, remote, state. */
    private static void parse(String line, Map<Connection, Integer> out) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4) throw new IllegalArgumentException("not a connection table line: " + line);
        out.put(new Connection(address(f[1]), address(f[2])), Integer.parseInt(f[3], 16));
    }

    /** {@code HEX:PORT}: the address as 32-bit words in the machine's byte order, the port in hexadecimal. */
    static InetSocketAddress address(String field) {
        int colon = field.indexOf(':');
        if (colon != 8 && colon != 32) throw new IllegalArgumentException("not an address: " + field);
        String hex = field.substring(0, colon);
        ByteBuffer bytes = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < hex.length(); i += 8) bytes.putInt(Integer.parseUnsignedInt(hex, i, i + 8, 16));
        try {
            // an IPv4-mapped IPv6 address (a dual-stack listener's IPv4 client) comes back as the IPv4 address Java reports
            return new InetSocketAddress(InetAddress.getByAddress(bytes.array()), Integer.parseInt(field, colon + 1, field.length(), 16));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + field, e);
        }
    }
}
