/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.UserError;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Errors (not Exceptions) that picocli's handler would never see become one-line messages. */
class FatalErrorsTest {
    /** A command whose work throws {@code error}. */
    @CommandLine.Command(name = "failing")
    static final class Failing extends CommandBase {
        final Error error;

        Failing(Error error) {
            this.error = error;
        }

        @Override
        void execute() {
            throw error;
        }
    }

    private static Throwable run(Error e) {
        Failing f = new Failing(e);
        new CommandLine(f); // injects the spec
        return assertThrows(Throwable.class, f::call);
    }

    @Test
    void outOfMemoryAsksForMoreHeap() {
        Throwable t = run(new OutOfMemoryError("Java heap space"));
        assertEquals(UserError.class, t.getClass());
        assertTrue(t.getMessage().startsWith("out of memory (the heap limit is ") && t.getMessage().endsWith("give the JVM more heap, e.g. JAVA_OPTS=-Xmx8g"),
                t.getMessage());
    }

    @Test
    void aFaultInAMappedFileSaysTheFileChanged() {
        Throwable t = run(new InternalError("a fault occurred in an unsafe memory access operation"));
        assertEquals(UserError.class, t.getClass());
        assertTrue(t.getMessage().contains("memory-mapped model file was truncated or rewritten"), t.getMessage());
        InternalError other = new InternalError("something else");
        assertSame(other, run(other), "other internal errors are bugs and keep their trace");
    }
}
