/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import io.jsteer.cli.steer.PositionRules;
import io.jsteer.steering.Intervention;
import io.jsteer.steering.activations.Readout;
import io.jsteer.transformer.State;
import io.jsteer.transformer.batch.BatchSize;
import io.jsteer.transformer.batch.Engine;
import io.jsteer.transformer.batch.Job;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.Hooks;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Activations of each row's prompt at the chosen hook points and positions (the readout), with
 * the steering attached before the recorders, so a point at or after the steered one shows the
 * steered values. One column per point, {@code [positions][hidden]}, named
 * {@link #column(HookName)}, and the absolute positions read in {@code positions}.
 */
final class ActivationsJob extends RowJob {
    ActivationsJob(ModelSource source, Steer steer, Options options, StructType input) {
        super(source, steer, options, input);
        if (options.points().isEmpty()) throw new IllegalArgumentException("no hook points to record");
        points(); // a bad hook point or readout fails on the driver
        PositionRules.readout(options.readout());
    }

    /** The hook points to record, each once, in the order given. */
    private List<HookName> points() {
        return options.points().stream().map(HookName::parse).distinct().toList();
    }

    /** The column of a hook point: its name with dots as underscores, e.g. {@code blocks_2_hook_resid_post}. */
    static String column(HookName point) {
        return point.toString().replace('.', '_');
    }

    @Override
    StructType results() {
        StructType s = new StructType().add("positions", DataTypes.createArrayType(DataTypes.IntegerType, false), true);
        for (HookName p : points()) {
            s = s.add(column(p), DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false), false), true);
        }
        return s;
    }

    @Override
    boolean samples() {
        return false;
    }

    /** Runs one prompt's forward pass with the steering and one recorder per point attached. */
    private static final class Recording implements Job {
        final int[] prompt, positions;
        final Intervention steering;
        final List<HookName> points;
        final float[][][] rows;
        final List<Hooks.Handle> handles = new ArrayList<>();
        Exception failure;

        Recording(int[] prompt, int[] positions, Intervention steering, List<HookName> points) {
            this.prompt = prompt;
            this.positions = positions;
            this.steering = steering;
            this.points = points;
            this.rows = new float[points.size()][][];
        }

        @Override
        public int[] prompt() {
            return prompt.clone();
        }

        @Override
        public void start(State state) {
            if (steering != null) handles.add(steering.attach(state));
            for (int i = 0; i < points.size(); i++) {
                int k = i;
                handles.add(state.hooks().add(points.get(i), (ctx, x) -> {
                    float[][] out = new float[positions.length][];
                    for (int r = 0; r < positions.length; r++) {
                        int off = (positions[r] - ctx.startPos()) * ctx.width();
                        out[r] = java.util.Arrays.copyOfRange(x, off, off + ctx.width());
                    }
                    rows[k] = out;
                }));
            }
        }

        @Override
        public int next(float[] logits) {
            return END;
        }

        @Override
        public void end(Exception failure) {
            this.failure = failure;
            for (Hooks.Handle h : handles) h.close();
            handles.clear();
        }
    }

    @Override
    List<Outcome> run(LoadedModel m, Intervention steering, List<Prompts.Parsed> rows) {
        Readout readout = PositionRules.readout(options.readout());
        List<HookName> points = points();
        Recording[] jobs = new Recording[rows.size()];
        String[] errors = new String[rows.size()];
        List<Recording> all = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Prompts.Parsed p = rows.get(i);
            if (p.error() != null) {
                errors[i] = p.error();
                continue;
            }
            int[] positions;
            try {
                positions = readout.positions(p.ids().length);
            } catch (IllegalArgumentException e) {
                errors[i] = "readout: " + e.getMessage();
                continue;
            }
            jobs[i] = new Recording(p.ids(), positions, steering, points);
            all.add(jobs[i]);
        }
        if (!all.isEmpty()) {
            int longest = all.stream().mapToInt(j -> j.prompt.length).max().orElse(1);
            new Engine(m.model(), batched(options, () -> BatchSize.current(m.model(), longest))).run(all);
        }
        List<Outcome> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            if (errors[i] != null) {
                out.add(Outcome.failed(errors[i]));
                continue;
            }
            Object[] v = new Object[1 + points.size()];
            v[0] = jobs[i].positions;
            System.arraycopy(jobs[i].rows, 0, v, 1, points.size());
            out.add(Outcome.ok(v));
        }
        return out;
    }
}
