/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer.backend;

import io.jsteer.transformer.backend.Backend.Product;
import io.jsteer.transformer.kernels.Parallel;

/**
 * One branch of a block (attention or the MLP) as a backend runs it, in three stages over the
 * rows of one forward call: the products that read its input, the work between them, and the
 * output product. A backend may run the same stage of independent branches together (see
 * {@link Backend#run}); each stage is called once, in order.
 */
public interface Branch {
    /** The products that read the branch's input. */
    Product[] projections();

    /** After the projections: the work before the output product, as one parallel loop. */
    Parallel.Loop middle();

    /** After the middle: the output product. */
    Product output();

    /** After the output product: the branch's output {@code [rows][d]}. */
    float[] result();
}
