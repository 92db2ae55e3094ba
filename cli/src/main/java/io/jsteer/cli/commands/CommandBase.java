/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.UserError;
import io.jsteer.cli.io.OutputPaths;
import io.jsteer.cli.progress.Progress;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.SequenceProgress;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;

/** What every subcommand shares: help options, its output streams. Subcommands return 0 or throw. */
@CommandLine.Command(mixinStandardHelpOptions = true, usageHelpAutoWidth = true, versionProvider = io.jsteer.cli.Main.Version.class)
abstract class CommandBase implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--force", description = "Overwrite existing output files and replace non-empty output folders.")
    boolean force;

    /** Refuses an output file that cannot or may not be written (see {@link OutputPaths}); call before any work. */
    void outputFile(String option, Path file) {
        if (file != null) OutputPaths.file(option, file, force);
    }

    /** As {@link #outputFile} for an output folder. */
    void outputDirectory(String option, Path dir) {
        if (dir != null) OutputPaths.directory(option, dir, force);
    }

    /** Results for the user. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Progress and notes, kept apart from results so that stdout can be piped. */
    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /**
     * Runs {@code work} with a progress bar on stderr counting the {@code total} sequences it runs
     * through the model (see {@link SequenceProgress}).
     */
    <T> T countingSequences(String task, int total, Supplier<T> work) {
        try (Progress progress = Progress.start(err(), task, total)) {
            return ScopedValue.where(SequenceProgress.FINISHED, () -> progress.step(null)).call(work::get);
        }
    }

    /** {@code --batch-size} where the command has it, else null (the jobs choose). */
    Integer batchSize() {
        return null;
    }

    /**
     * Runs the command. Errors that picocli's handler never sees (it handles Exceptions) become
     * one-line {@link UserError}s: running out of heap, and the fault the JVM raises when a
     * memory-mapped checkpoint shrinks under a read.
     */
    @Override
    public final Integer call() throws Exception {
        try {
            executeInBatches();
        } catch (OutOfMemoryError e) {
            throw new UserError("out of memory (the heap limit is " + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MB); give the JVM more heap, e.g. JAVA_OPTS=-Xmx8g");
        } catch (InternalError e) {
            if (e.getMessage() == null || !e.getMessage().contains("unsafe memory access")) throw e;
            throw new UserError("a memory-mapped model file was truncated or rewritten while this command was reading it; "
                    + "replace checkpoints by renaming a finished download into place, not by writing over them");
        }
        out().flush();
        err().flush();
        return 0;
    }

    private void executeInBatches() throws Exception {
        Integer batch = batchSize();
        if (batch == null) {
            execute();
        } else {
            try {
                Engine.checkBatchSize(batch);
            } catch (IllegalArgumentException e) {
                throw new UserError("--batch-size: " + e.getMessage());
            }
            ScopedValue.where(BatchSize.SEQUENCES, batch).call(() -> {
                execute();
                return null;
            });
        }
    }

    abstract void execute() throws Exception;
}
