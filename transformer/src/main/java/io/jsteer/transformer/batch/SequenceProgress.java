/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.batch;

/**
 * Progress of multi-sequence work in sequences: a caller that shows a progress bar binds
 * {@link #FINISHED} for a scope, and every {@link Engine} (and the activation cache) in it calls
 * it once per sequence it finishes, whichever job, measure or setting the sequence belongs to.
 * <pre>{@code
 * ScopedValue.where(SequenceProgress.FINISHED, bar::step).run(() -> evaluator.evaluate(steering));
 * }</pre>
 */
public final class SequenceProgress {
    /** Called on the engine's thread after each finished sequence. */
    public static final ScopedValue<Runnable> FINISHED = ScopedValue.newInstance();

    private SequenceProgress() {}

    /** Reports one finished sequence to the scope's listener, if there is one. */
    public static void finished() {
        if (FINISHED.isBound()) FINISHED.get().run();
    }
}
