/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/**
 * Turns failures into one line on stderr and an exit status: {@link Main#EXIT_USAGE} for a
 * command line that does not parse, {@link Main#EXIT_FAILURE} for everything else. The stack
 * trace is printed only with {@code --verbose}.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandName().equals("jsteer") ? "jsteer: error: " + message(e) : "jsteer " + cl.getCommandName() + ": error: " + message(e));
        if (verbose(parsed)) e.printStackTrace(err);
        err.flush();
        return Main.EXIT_FAILURE;
    }

    static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String message = e.getMessage() == null ? "invalid command line" : e.getMessage().replaceFirst("^Error: ", "");
        err.println("jsteer" + (cl.getCommandName().equals("jsteer") ? "" : " " + cl.getCommandName()) + ": " + message);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return Main.EXIT_USAGE;
    }

    private static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    /** The most telling one-line message of an exception chain. */
    static String message(Throwable e) {
        Throwable t = e instanceof CommandLine.ExecutionException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof UncheckedIOException u && u.getCause() != null) {
            // jsteer's own wrappers name the file in their message; a bare wrapper only repeats its cause
            if (u.getMessage() != null && !u.getMessage().equals(u.getCause().toString())) return oneLine(u.getMessage());
            t = u.getCause();
        }
        if (t instanceof NoSuchFileException f) return "no such file: " + f.getFile();
        if (t instanceof AccessDeniedException f) return "permission denied: " + f.getFile();
        if (t instanceof FileSystemException f) return f.getFile() + ": " + (f.getReason() == null ? "cannot access it" : f.getReason());
        if (t instanceof OutOfMemoryError) return "out of memory; give the JVM more heap (JAVA_OPTS=-Xmx8g)";
        String m = t.getMessage();
        return oneLine(m == null || m.isBlank() ? t.getClass().getSimpleName() : m);
    }

    /**
     * One line, without the parser internals Jackson appends ({@code at [Source: REDACTED ...;
     * line: 1, column: 7]} becomes {@code (line 1, column 7)}).
     */
    static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", " ")
                .replaceAll("\\s*at \\[Source: [^\\]]*?line: (\\d+), column: (\\d+)\\]", " (line $1, column $2)")
                .replaceAll("\\s*at \\[Source: [^\\]]*\\]", "")
                .replaceAll(" \\(through reference chain: [^)]*\\)", "");
    }
}
