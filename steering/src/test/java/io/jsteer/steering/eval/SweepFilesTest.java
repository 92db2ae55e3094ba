/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepFilesTest {
    @TempDir
    Path dir;

    static SweepResult sample() {
        double[] base = {1.0, 1.5, 0.5};
        SweepRow r1 = new SweepRow(new SweepPoint(2, 4.0, OptionalInt.of(8)), new Evaluation("caa \"x4\", layer 2",
                Effect.of("joy", base, new double[] {2.0, 2.25, 1.0}),
                new PerplexityChange(Effect.of("nll", new double[] {3, 3.2, 2.9}, new double[] {3.1, 3.3, 3.05})),
                List.of(Effect.of("anger, fear", base, new double[] {1.0, 1.6, 0.4}))));
        // one held-out item: every interval and p-value is undefined
        SweepRow r2 = new SweepRow(new SweepPoint(3, -1.5, OptionalInt.empty()), new Evaluation("plain",
                Effect.of("joy", new double[] {1}, new double[] {0.5}),
                new PerplexityChange(Effect.of("nll", new double[] {3}, new double[] {3.5})),
                List.of(Effect.of("anger, fear", new double[] {1}, new double[] {1}))));
        return new SweepResult("joy", List.of("anger, fear"), List.of(r1, r2));
    }

    @Test
    void jsonRoundTripsExactly() {
        SweepResult r = sample();
        Path f = dir.resolve("sweep.json");
        SweepFiles.writeJson(r, f);
        assertEquals(r, SweepFiles.readJson(f));
    }

    @Test
    void csvHasOneQuotedRowPerSetting() throws IOException {
        SweepResult r = sample();
        Path f = dir.resolve("sweep.csv");
        SweepFiles.writeCsv(r, f);
        List<String> lines = Files.readAllLines(f);
        assertEquals(3, lines.size());
        assertEquals("layer,coefficient,k,intervention,on_target,on_target_low,on_target_high,on_target_p,ppl_ratio,ppl_low,ppl_high,ppl_p,"
                + "\"spill_anger, fear\",\"spill_anger, fear_low\",\"spill_anger, fear_high\",\"spill_anger, fear_p\"", lines.get(0));
        Evaluation e = r.rows().get(0).evaluation();
        String expected = "2,4.0,8,\"caa \"\"x4\"\", layer 2\"," + e.onTarget().mean() + "," + e.onTarget().difference().low() + ","
                + e.onTarget().difference().high() + "," + e.onTarget().pValue() + "," + e.perplexity().ratio() + "," + e.perplexity().low() + ","
                + e.perplexity().high() + "," + e.perplexity().pValue() + "," + e.spillover().get(0).mean() + ","
                + e.spillover().get(0).difference().low() + "," + e.spillover().get(0).difference().high() + "," + e.spillover().get(0).pValue();
        assertEquals(expected, lines.get(1));
        assertEquals("3,-1.5,,plain,-0.5,,,," + Math.exp(0.5) + ",,,,0.0,,,", lines.get(2));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void bestRespectsThePerplexityBudget() {
        SweepResult r = sample();
        assertEquals(r.rows().get(0), r.best(2.0).orElseThrow());
        // row 0 has ratio exp(0.1167) = 1.12, row 1 exp(0.5) = 1.65
        assertTrue(r.best(1.1).isEmpty());
        assertTrue(r.hasK());
    }

    @Test
    void writingIntoAMissingDirectoryFailsWithoutOutput() {
        Path f = dir.resolve("missing").resolve("sweep.json");
        var e = assertThrows(UncheckedIOException.class, () -> SweepFiles.writeJson(sample(), f));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertFalse(Files.exists(f.getParent()));
    }

    @Test
    void readingAForeignJsonNamesTheProblem() throws IOException {
        Path f = dir.resolve("other.json");
        Files.writeString(f, "{\"rows\": []}");
        var e = assertThrows(IllegalArgumentException.class, () -> SweepFiles.readJson(f));
        assertTrue(e.getMessage().contains("not a jsteer sweep file"), e.getMessage());
        Files.writeString(f, "{\"format\": \"jsteer-sweep/1\", \"target\": \"joy\", \"spillover\": [], \"rows\": [{\"layer\": 1}]}");
        e = assertThrows(IllegalArgumentException.class, () -> SweepFiles.readJson(f));
        assertEquals("sweep result " + f + ": row 0: missing field 'k'", e.getMessage());
    }

    @Test
    void mismatchedRowsAreRejected() {
        SweepRow row = sample().rows().get(0);
        var e = assertThrows(IllegalArgumentException.class, () -> new SweepResult("joy", List.of(), List.of(row)));
        assertTrue(e.getMessage().contains("expected []"), e.getMessage());
    }
}
