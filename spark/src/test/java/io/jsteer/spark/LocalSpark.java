/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.spark.sql.SparkSession;

/** One local Spark for the module's tests (its start-up takes seconds), and the command line run in-process. */
final class LocalSpark {
    private LocalSpark() {}

    private static SparkSession session;

    /**
     * Two worker threads, each task tried up to three times (so an injected failure is retried),
     * everything bound to the loopback address.
     */
    static synchronized SparkSession get() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2,3]")
                    .appName("jsteer-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
        }
        return session;
    }

    /** Runs {@code jsteer ARGS} in this JVM; fails with its output unless it exits 0. */
    static String cli(Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < a.length; i++) a[i] = args[i].toString();
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(a, new PrintWriter(out, true), new PrintWriter(err, true));
        if (exit != 0) throw new AssertionError("jsteer exited " + exit + "\nstdout: " + out + "\nstderr: " + err);
        return out.toString();
    }
}
