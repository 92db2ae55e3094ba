package io.jsteer.cli.commands;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** What every subcommand shares: help options, its output streams. Subcommands return 0 or throw. */
@CommandLine.Command(mixinStandardHelpOptions = true, usageHelpAutoWidth = true, versionProvider = io.jsteer.cli.Main.Version.class)
abstract class CommandBase implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Results for the user. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Progress and notes, kept apart from results so that stdout can be piped. */
    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    @Override
    public final Integer call() throws Exception {
        execute();
        out().flush();
        err().flush();
        return 0;
    }

    abstract void execute() throws Exception;
}
