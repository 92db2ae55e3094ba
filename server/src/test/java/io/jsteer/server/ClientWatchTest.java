/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ClientWatch} on connection tables written as Linux writes them, and on this machine's own where it has them. */
class ClientWatchTest {
    static final String HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    @Test
    void addressesAsTheKernelWritesThem() {
        Assumptions.assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are from a little-endian machine");
        assertEquals(new InetSocketAddress("127.0.0.1", 8080), ClientWatch.address("0100007F:1F90"));
        // a dual-stack listener's IPv4 client: ::ffff:127.0.0.1, which Java reports as the IPv4 address
        assertEquals(new InetSocketAddress("127.0.0.1", 0xB499), ClientWatch.address("0000000000000000FFFF00000100007F:B499"));
        assertEquals(new InetSocketAddress("::1", 443), ClientWatch.address("00000000000000000000000001000000:01BB"));
    }

    @Test
    void aConnectionIsGoneOnceItLeavesEstablished(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are from a little-endian machine");
        Path table = dir.resolve("tcp");
        String listening = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n";
        String other = "   2: 0100007F:1F90 0100007F:C001 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n";
        Files.writeString(table, HEADER + listening
                + "   1: 0100007F:1F90 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n" + other);
        ClientWatch w = new ClientWatch(List.of(table, dir.resolve("tcp6")));
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", 8080);
        BooleanSupplier gone = w.watch(server, new InetSocketAddress("127.0.0.1", 0xC000));
        assertFalse(gone.getAsBoolean());
        // the client's FIN: CLOSE_WAIT (08)
        Files.writeString(table, HEADER + listening
                + "   1: 0100007F:1F90 0100007F:C000 08 00000000:00000000 00:00000000 00000000     0        0 2 1\n" + other);
        Thread.sleep(ClientWatch.REFRESH_NANOS / 1_000_000 + 20);
        assertTrue(gone.getAsBoolean());
        // the client's RST: the line is gone
        BooleanSupplier other1 = w.watch(server, new InetSocketAddress("127.0.0.1", 0xC001));
        assertFalse(other1.getAsBoolean());
        Files.writeString(table, HEADER + listening);
        Thread.sleep(ClientWatch.REFRESH_NANOS / 1_000_000 + 20);
        assertTrue(other1.getAsBoolean());
    }

    @Test
    void aClientThatLeftBeforeTheWatchBeganIsGoneAtOnce(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are from a little-endian machine");
        Path table = dir.resolve("tcp");
        Files.writeString(table, HEADER + "   1: 0100007F:1F90 0100007F:C000 08 00000000:00000000 00:00000000 00000000     0        0 2 1\n");
        assertTrue(new ClientWatch(List.of(table)).watch(new InetSocketAddress("127.0.0.1", 8080), new InetSocketAddress("127.0.0.1", 0xC000)).getAsBoolean());
    }

    @Test
    void withoutTablesOrAnUnknownConnectionNothingIsEverGone(@TempDir Path dir) throws Exception {
        BooleanSupplier none = new ClientWatch(List.of(dir.resolve("tcp"), dir.resolve("tcp6")))
                .watch(new InetSocketAddress("127.0.0.1", 8080), new InetSocketAddress("127.0.0.1", 50000));
        Path table = dir.resolve("tcp");
        Files.writeString(table, HEADER);
        BooleanSupplier unknown = new ClientWatch(List.of(table)).watch(new InetSocketAddress("127.0.0.1", 8080), new InetSocketAddress("127.0.0.1", 50000));
        Thread.sleep(ClientWatch.REFRESH_NANOS / 1_000_000 + 20);
        assertFalse(none.getAsBoolean());
        assertFalse(unknown.getAsBoolean());
    }

    @Test
    void aRealLoopbackConnectionClosedByItsClient() throws Exception {
        ClientWatch w = new ClientWatch();
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "no Linux connection table here");
        try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort());
            try (Socket accepted = listener.accept()) {
                BooleanSupplier gone = w.watch((InetSocketAddress) accepted.getLocalSocketAddress(), (InetSocketAddress) accepted.getRemoteSocketAddress());
                assertFalse(gone.getAsBoolean());
                client.close();
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (!gone.getAsBoolean()) {
                    assertTrue(System.nanoTime() < deadline, "the closed connection was never seen");
                    Thread.sleep(20);
                }
            }
        }
    }
}
