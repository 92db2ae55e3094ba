/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Steering vectors as weight changes: an exact GPT-NeoX bias patch, or a rank-1 LoRA on the down
 * projection exported in PEFT's layout.
 */
package io.jsteer.steering.lora;
