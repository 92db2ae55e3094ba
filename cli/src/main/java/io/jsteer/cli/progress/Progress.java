/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.progress;

import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work on stderr: a live progress bar when stderr is a terminal, otherwise (logs,
 * CI, pipes) one plain line per quarter of the work, so logs stay readable.
 */
public interface Progress extends AutoCloseable {
    /** One unit of work is done; {@code note} says what (may be null). */
    void step(String note);

    @Override
    void close();

    /** Starts reporting {@code total} units of {@code task}. */
    static Progress start(PrintWriter err, String task, int total) {
        var console = System.console();
        if (console != null && console.isTerminal()) {
            ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).continuousUpdate().build();
            return new Progress() {
                @Override
                public void step(String note) {
                    if (note != null) bar.setExtraMessage(note);
                    bar.step();
                }

                @Override
                public void close() {
                    bar.close();
                }
            };
        }
        return new Progress() {
            private int done, reported;

            @Override
            public void step(String note) {
                done++;
                int quarter = total == 0 ? 4 : 4 * done / total;
                if (quarter > reported || done == total) {
                    reported = quarter;
                    err.printf("%s: %d/%d%s%n", task, done, total, note == null ? "" : " (" + note + ")");
                    err.flush();
                }
            }

            @Override
            public void close() {}
        };
    }
}
