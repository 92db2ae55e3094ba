/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs in a plain JVM (no TornadoVM flags, no TornadoVM jars: see gpu/pom.xml), as the CLI does when
 * no SDK is configured: selection must give up cleanly so the caller keeps the CPU backend.
 */
class WithoutTornadoTest {
    @Test
    void tryCreateIsEmptyWithAReason() {
        List<String> messages = new ArrayList<>();
        assertTrue(TornadoBackend.tryCreate(messages::add).isEmpty());
        assertEquals(1, messages.size(), messages.toString());
        assertTrue(messages.getFirst().contains("tornado-argfile"), messages.getFirst());
        assertTrue(messages.getFirst().contains("CPU backend"), messages.getFirst());
    }
}
