/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli;

import io.jsteer.cli.commands.ApplyCommand;
import io.jsteer.cli.commands.AttentionCommand;
import io.jsteer.cli.commands.CheckCommand;
import io.jsteer.cli.commands.DemoCommand;
import io.jsteer.cli.commands.DlaCommand;
import io.jsteer.cli.commands.EvalCommand;
import io.jsteer.cli.commands.ExportCommand;
import io.jsteer.cli.commands.QuantizeCommand;
import io.jsteer.cli.commands.GenerateCommand;
import io.jsteer.cli.commands.InspectCommand;
import io.jsteer.cli.commands.LensCommand;
import io.jsteer.cli.commands.LogitsCommand;
import io.jsteer.cli.commands.PatchCommand;
import io.jsteer.cli.commands.ServeCommand;
import io.jsteer.cli.commands.SweepCommand;
import io.jsteer.cli.commands.VectorCommand;
import io.jsteer.cli.steer.Methods;
import io.jsteer.cli.steer.PositionRules;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jsteer} command line: one subcommand per job, each a thin layer over the library. */
@Command(name = "jsteer", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Pure-Java transformer language models with activation steering.",
        subcommands = {LogitsCommand.class, GenerateCommand.class, VectorCommand.class, ApplyCommand.class, SweepCommand.class,
                EvalCommand.class, ExportCommand.class, QuantizeCommand.class, InspectCommand.class, LensCommand.class, PatchCommand.class, DlaCommand.class, AttentionCommand.class, CheckCommand.class, DemoCommand.class, ServeCommand.class, CommandLine.HelpCommand.class},
        usageHelpAutoWidth = true,
        description = {"", "Models: a Hugging Face folder (config.json, model.safetensors, tokenizer.json) or 'default', "
                + "the built-in demo model. Run 'jsteer demo' for a tour.", ""})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "On errors, print the stack trace too.")
    boolean verbose;

    /** Exit status of a command that failed on bad input or a failing file system. */
    public static final int EXIT_FAILURE = 1;
    /** Exit status of a command line that does not parse (picocli's convention). */
    public static final int EXIT_USAGE = 2;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit status (for tests and embedding). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler(Errors::usage);
        String[] methods = ("%nSteering methods (--method NAME[:key=value,...]; common keys: layer, default the middle block; hook, one of "
                + "resid_pre, attn_out, resid_mid, mlp_out, resid_post, default resid_post; coeff, default 1; readout, "
                + PositionRules.READOUT_HELP + "; positions, " + PositionRules.POSITIONS_HELP + "):%n" + Methods.describe()).split("\n");
        for (String name : new String[] {"vector", "generate", "apply", "sweep", "eval"}) {
            cl.getSubcommands().get(name).getCommandSpec().usageMessage().footer(methods);
        }
        return cl.execute(args);
    }

    /** The version from the jar manifest (absent when run from classes). */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jsteer " + (v == null ? "(development build)" : v), "Java " + Runtime.version()};
        }
    }
}
