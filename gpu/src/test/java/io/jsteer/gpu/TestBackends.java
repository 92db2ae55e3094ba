/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import java.util.ArrayList;
import java.util.List;

/** The TornadoVM backend the device tests run on: without one the test fails, with TornadoVM's reasons. */
final class TestBackends {
    private TestBackends() {}

    /** Opens the backend, collecting its reports (the device line, or why there is none) in {@code reports}. */
    static TornadoBackend open(List<String> reports) {
        return TornadoBackend.tryCreate(reports::add).orElseThrow(() -> new AssertionError("no TornadoVM backend: " + reports));
    }

    static TornadoBackend open() {
        return open(new ArrayList<>());
    }
}
