/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsteer.cli.defaultmodel.DefaultModel;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's spark-submit recipe, run for real: {@code org.apache.spark.deploy.SparkSubmit
 * --class io.jsteer.spark.SparkMain target/jsteer-spark-app.jar apply ...} in a JVM of its own
 * whose class path is a Spark distribution's (Spark's own, older Jackson included; jsteer's
 * classes and the libraries only jsteer uses come from the application jar), started with what Spark's launcher adds ({@code jvm.options}) and the
 * recipe's driver options. The master is {@code local[2]}: the driver runs its executors in the
 * same JVM. Runs after {@code package}, in the integration-test phase, where the jar exists.
 */
@Timeout(180)
class SparkSubmitTest {
    static final Path APP = Path.of(System.getProperty("jsteer.spark.app", "target/jsteer-spark-app.jar"));
    static final Path JVM_OPTIONS = Path.of(System.getProperty("jsteer.spark.jvmOptions", "jvm.options"));
    /** The Jackson jars a Spark distribution ships (older than the project's, which the application jar carries). */
    static final Path SPARK_JACKSON = Path.of(System.getProperty("jsteer.spark.jackson", "target/spark-jackson"));
    /** The recipe's {@code spark.driver.extraJavaOptions}, which the launcher puts on the driver's command line. */
    static final List<String> DRIVER_OPTIONS = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");
    /** Libraries jsteer uses and Spark does not: they must come from the application jar. */
    static final List<String> JSTEER_ONLY = List.of("/info/picocli/", "/com/hubspot/", "/io/helidon/", "/org/knowm/", "/org/ejml/", "/ai/djl/", "/me/tongfei/");

    @Test
    void theApplicationJarRunsApplyUnderSparkSubmitAsTheLocalCommandDoes(@TempDir Path tmp) throws Exception {
        // in the test phase (e.g. -Dtest=...) the jar is missing or stale
        Assumptions.assumeTrue(Boolean.getBoolean("jsteer.spark.packaged"), "runs in the integration-test phase, after package (mvn -pl spark -am verify)");
        assertTrue(Files.isRegularFile(APP), APP + " is missing: this test runs after 'package'");
        try (JarFile jar = new JarFile(APP.toFile())) {
            assertTrue(jar.getEntry("io/jsteer/spark/SparkMain.class") != null, "SparkMain is not in " + APP);
            assertTrue(jar.getEntry("picocli/CommandLine.class") != null, "picocli is not in " + APP);
            assertFalse(jar.stream().anyMatch(e -> e.getName().startsWith("org/apache/spark/")), "Spark's own classes are in " + APP + " (it is provided)");
        }
        Path prompts = Files.write(tmp.resolve("prompts.txt"), DatasetJobsTest.PROMPTS);
        Path vector = Path.of(ModelSource.defaultModel().dir()).resolve(DefaultModel.PLANTED_DIRECTION);
        Path local = tmp.resolve("local.jsonl"), submitted = tmp.resolve("submitted.jsonl");
        Object[] apply = {"apply", "--prompts", prompts, "--vector", vector, "-c", 4, "-n", 6, "-t", 0.8, "--seed", 3, "--with-unsteered"};
        LocalSpark.cli(SparkMainTest.concat(apply, new Object[] {"-o", local}));

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("@" + JVM_OPTIONS.toAbsolutePath());
        cmd.addAll(DRIVER_OPTIONS);
        cmd.add("-Xmx1g");
        cmd.add("-Djsteer.cache=" + System.getProperty("jsteer.cache"));
        cmd.addAll(List.of("-cp", sparkClassPath(), "org.apache.spark.deploy.SparkSubmit", "--master", "local[2]",
                "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.executor.extraJavaOptions=" + String.join(" ", DRIVER_OPTIONS),
                "--class", "io.jsteer.spark.SparkMain", APP.toAbsolutePath().toString()));
        for (Object a : apply) cmd.add(a.toString());
        cmd.addAll(List.of("-o", submitted.toString()));
        Path log = tmp.resolve("spark-submit.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        boolean ended = p.waitFor(150, TimeUnit.SECONDS);
        if (!ended) p.destroyForcibly().waitFor();
        String out = Files.readString(log);
        assertTrue(ended, "spark-submit did not end within 150 s:\n" + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("wrote " + submitted + ": " + DatasetJobsTest.PROMPTS.size() + " prompts steered"), out);
        assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(submitted));
    }

    /**
     * This JVM's class path as a Spark distribution's: no jsteer module's classes or jars, none of
     * the libraries only jsteer uses (they must be in the application jar), and Spark's own Jackson
     * instead of the project's newer one (a cluster's class path comes first, so jsteer runs on it).
     */
    static String sparkClassPath() throws IOException {
        String all = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> kept = new ArrayList<>();
        for (String entry : all.split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName().toString(), unix = entry.replace(File.separatorChar, '/');
            boolean jsteer = name.startsWith("jsteer-") || unix.endsWith("/target/classes") || unix.endsWith("/target/test-classes");
            if (jsteer || unix.contains("/com/fasterxml/jackson/") || JSTEER_ONLY.stream().anyMatch(unix::contains)) continue;
            kept.add(entry);
        }
        assertTrue(kept.stream().anyMatch(e -> Path.of(e).getFileName().toString().startsWith("spark-core_")), "no spark-core on the class path: " + all);
        try (Stream<Path> jars = Files.list(SPARK_JACKSON)) {
            List<String> jackson = jars.map(Path::toString).filter(j -> j.endsWith(".jar")).sorted().toList();
            assertTrue(jackson.stream().anyMatch(j -> j.contains("jackson-databind-")), "no Spark Jackson in " + SPARK_JACKSON + ": " + jackson);
            kept.addAll(jackson);
        }
        return String.join(File.pathSeparator, kept);
    }
}
