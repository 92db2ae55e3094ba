/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.commands;

import io.jsteer.cli.io.OutputFiles;
import io.jsteer.cli.options.ModelOptions;
import io.jsteer.cli.options.PromptInput;
import io.jsteer.cli.options.SteeringOptions;
import io.jsteer.steering.Intervention;
import io.jsteer.cli.steer.Forward;
import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.transformer.hooks.HookName;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** One forward pass, dumped as JSON for comparison with other implementations. */
@Command(name = "logits", description = {"Run one forward pass and write the logits at every position and every block's output as JSON:",
        "{\"input_ids\": [...], \"logits\": [[...] per position], \"block_outputs\": [[[...] per position] per block]}",
        "(float32; block_outputs[l] is the residual stream after block l, hook_resid_post), optionally with steering attached.",
        "With --hooks, also \"hooks\": {\"blocks.L.hook_attn_out\": [[...] per position], ...}."})
public final class LogitsCommand extends CommandBase {
    @Mixin
    ModelOptions model;

    @Mixin
    PromptInput prompt;

    @Mixin
    SteeringOptions steering;

    @Option(names = "--hooks", paramLabel = "all|NAMES", description = {"Also write the activations at these hook points: 'all' (every residual-stream",
            "point of every block) or a comma list such as blocks.0.hook_attn_out,blocks.2.attn.hook_z (points: resid_pre, attn_out,",
            "resid_mid (sequential blocks only), mlp_out, resid_post; inside the block ln1.hook_normalized, attn.hook_q/k/v,",
            "attn.hook_rot_q/rot_k, attn.hook_z, ln2.hook_normalized, mlp.hook_pre/pre_linear/post; ln_final.hook_normalized),",
            "each as [[...] per position]."})
    String hooks;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.json", required = true, description = "Where to write the JSON.")
    Path out;

    @Override
    void execute() {
        outputFile("-o", out);
        LoadedModel m = model.load(err());
        int[] ids = prompt.tokens(m);
        List<HookName> record = hooks == null ? List.of() : Forward.hookPoints(m.model(), hooks);
        Intervention steer = steering.build(m);
        Forward.Result r = Forward.run(m.model(), ids, steer, record);
        OutputFiles.writeJson(out, g -> {
            g.writeStartObject();
            if (steer != null) g.writeStringField("steering", steer.describe());
            g.writeArrayFieldStart("input_ids");
            for (int id : ids) g.writeNumber(id);
            g.writeEndArray();
            g.writeFieldName("logits");
            writeRows(g, r.logits(), r.tokens(), r.vocab());
            g.writeArrayFieldStart("block_outputs");
            for (float[] block : r.blocks()) writeRows(g, block, r.tokens(), r.hidden());
            g.writeEndArray();
            if (hooks != null) {
                g.writeObjectFieldStart("hooks");
                for (Map.Entry<HookName, float[]> h : r.hooks().entrySet()) {
                    g.writeFieldName(h.getKey().toString());
                    writeRows(g, h.getValue(), r.tokens(), h.getValue().length / r.tokens());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
        });
        out().printf("wrote %s: logits [%d][%d], block_outputs [%d][%d][%d]%s%n", out, r.tokens(), r.vocab(), r.blocks().length, r.tokens(), r.hidden(),
                hooks == null ? "" : ", " + r.hooks().size() + " hook points");
    }

    private static void writeRows(com.fasterxml.jackson.core.JsonGenerator g, float[] a, int rows, int cols) throws java.io.IOException {
        g.writeStartArray();
        for (int r = 0; r < rows; r++) {
            g.writeStartArray();
            for (int c = 0; c < cols; c++) g.writeNumber(a[r * cols + c]);
            g.writeEndArray();
        }
        g.writeEndArray();
    }
}
