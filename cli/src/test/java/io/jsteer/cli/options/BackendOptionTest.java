/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.UserError;
import io.jsteer.transformer.backend.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

/** {@code --backend}: the CLI's tests run without the gpu module, as a build without TornadoVM does. */
class BackendOptionTest {
    @Test
    void cpuIsTheDefaultAndSaysNothing() {
        class Command {
            @Mixin
            ModelOptions options;
        }
        Command c = new Command();
        new CommandLine(c).parseArgs();
        List<String> notes = new ArrayList<>();
        assertSame(CpuBackend.INSTANCE, ModelOptions.backend(c.options.backend, notes::add));
        assertEquals(List.of(), notes);
    }

    @Test
    void tornadoWithoutTheGpuModuleFallsBackToCpuWithOneLine() {
        List<String> notes = new ArrayList<>();
        assertSame(CpuBackend.INSTANCE, ModelOptions.backend("tornado", notes::add));
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.getFirst().contains("gpu module is not on the class path"), notes.getFirst());
        assertTrue(notes.getFirst().endsWith("using the CPU backend"), notes.getFirst());
    }

    @Test
    void anUnknownBackendIsAUserError() {
        UserError e = assertThrows(UserError.class, () -> ModelOptions.backend("cuda", s -> {}));
        assertEquals("--backend cuda is not a backend; expected cpu or tornado", e.getMessage());
    }
}
