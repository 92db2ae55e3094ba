/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsteer.tests.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --method iti:...} on the command line: fitted from a contrast file, it generates what Hugging Face does under the same heads' shifts. */
class ItiCommandTest {
    @Test
    void generateWithItiMatchesTheReferenceAndVectorRefusesIt(@TempDir Path tmp) {
        Path model = Fixtures.dir("llama3-tiny");
        JsonNode ref = Fixtures.json(model.resolve("iti.json"));
        StringBuilder pairs = new StringBuilder();
        for (int i = 0; i < ref.get("positive").size(); i++) {
            pairs.append("{\"positive\": ").append(ref.get("positive").get(i)).append(", \"negative\": ").append(ref.get("negative").get(i)).append("}\n");
        }
        Path contrast = Cli.write(tmp.resolve("c.jsonl"), pairs.toString());
        Path out = tmp.resolve("gen.json");
        String spec = "iti:k=" + ref.get("k").asInt() + ",coeff=" + ref.get("alpha").asDouble();
        Cli.run("generate", "--model", model, "--ids", Cli.ids(ref.get("eval_ids")), "-n", ref.get("steered_generation").size(), "--ignore-eos",
                "--method", spec, "--contrast", contrast, "-o", out).ok();
        assertArrayEquals(Fixtures.ints(ref.get("steered_generation")), Fixtures.ints(Fixtures.json(out).get("steered_ids")));

        Cli.Result r = Cli.run("vector", "--model", model, "--method", spec, "--contrast", contrast, "-o", tmp.resolve("v.safetensors"));
        assertTrue(r.err().contains("method iti does not add one fixed vector"), r.err());
    }
}
