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
        TornadoBackend backend = TornadoBackend.tryCreate(reports::add).orElseThrow(() -> new AssertionError("no TornadoVM backend: " + reports));
        // the test JVM must be set up as the launcher sets up the CLI's (libjsig preloaded, see gpu/pom.xml)
        for (String r : reports) {
            if (r.startsWith("warning")) throw new AssertionError("the device tests' JVM is misconfigured: " + r);
        }
        return backend;
    }

    static TornadoBackend open() {
        return open(new ArrayList<>());
    }
}
