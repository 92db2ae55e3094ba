/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.options;

import picocli.CommandLine.Option;

/** {@code --batch-size}: how many sequences a multi-prompt command runs at once. */
public final class BatchOptions {
    @Option(names = "--batch-size", paramLabel = "N",
            description = "Sequences run at once through the model (default: chosen from the free heap, at most 16). "
                    + "Only speed and memory depend on it: every output is the same, byte for byte, for every N.")
    public Integer batchSize;
}
