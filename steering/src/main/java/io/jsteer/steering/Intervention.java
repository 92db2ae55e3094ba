/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.steering;

import io.jsteer.transformer.State;
import io.jsteer.transformer.hooks.Hooks;

/**
 * A fitted steering intervention: hooks that change activations while a sequence runs.
 * Interventions compose: attaching several to one state applies them in attach order.
 *
 * <pre>{@code
 * Intervention caa = new Caa(new HookName(6, HookPoint.RESID_POST), 4.0).fit(model, pairs);
 * GenerationRequest request = GenerationRequest.builder(prompt).steering(caa::attach).build();
 * // or by hand, on a state of your own:
 * try (Hooks.Handle steering = caa.attach(state)) {
 *     model.forward(state, prompt, false);
 * }
 * }</pre>
 */
public interface Intervention {
    /** Attaches this intervention to the state's hooks; closing the handle detaches it. */
    Hooks.Handle attach(State state);

    /** One line for logs and reports, e.g. {@code CAA blocks.6.hook_resid_post x4.0 all positions}. */
    String describe();
}
