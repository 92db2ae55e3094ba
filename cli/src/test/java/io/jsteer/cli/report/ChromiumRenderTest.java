/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders the report in headless Chromium, when installed, and keeps the page and its screenshot
 * in {@code target/report-preview/} for a person to look at.
 */
class ChromiumRenderTest {
    static final int WIDTH = 1200, HEIGHT = 3600;

    @TempDir
    Path profile;

    static Path chromium() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return p;
            }
        }
        return null;
    }

    @Test
    void rendersInHeadlessChromium() throws IOException, InterruptedException {
        Path browser = chromium();
        assumeTrue(browser != null, "chromium is not installed");
        Path out = Path.of("target", "report-preview").toAbsolutePath();
        Files.createDirectories(out);
        Path html = out.resolve("report.html"), shot = out.resolve("screenshot.png");
        Files.deleteIfExists(shot);
        HtmlReport.write(HtmlReportTest.report(HtmlReportTest.sweep()), html);

        Process p = new ProcessBuilder(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--user-data-dir=" + profile, "--window-size=" + WIDTH + "," + HEIGHT, "--screenshot=" + shot, html.toUri().toString())
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish in 120 s");
        assertEquals(0, p.exitValue(), () -> "chromium failed: " + read(profile.resolve("chromium.log")));

        BufferedImage img = ImageIO.read(shot.toFile());
        assertEquals(WIDTH, img.getWidth());
        assertEquals(HEIGHT, img.getHeight());
        // the page has text, tables and three colourful charts: far more than a blank page
        assertTrue(HtmlReportTest.colours(img) > 200, "screenshot looks blank: " + HtmlReportTest.colours(img) + " colours");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
