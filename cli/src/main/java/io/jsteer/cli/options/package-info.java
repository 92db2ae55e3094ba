/** Option groups (picocli mixins) shared by several subcommands: model, prompt, sampling, steering, contrast data, evaluation. */
package io.jsteer.cli.options;
