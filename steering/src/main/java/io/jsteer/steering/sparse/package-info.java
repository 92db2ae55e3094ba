/** Mean-difference vectors restricted to a few coordinates: by effect-to-noise ratio, or after whitening. */
package io.jsteer.steering.sparse;
