#!/usr/bin/env python3
"""Random ggml blocks and llama.cpp's own dequantization of them, for QuantsTest.

usage: PYTHONPATH=<llama.cpp>/gguf-py python3 make_blocks.py   (numpy only; run offline, never in CI)

For each of Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, Q5_0 writes <type>.bin (64 blocks of random bytes whose float16
scales are replaced by edge values: smallest and largest subnormal, -0, +-65504, 1, and random
normal halves of either sign) and <type>.f32 (gguf-py's quants.dequantize of those bytes, float32
little-endian). gguf-py mirrors ggml's dequantize_row_* operation for operation.
Made with llama.cpp commit d32676d77 (unslothai/llama.cpp), numpy 2.4.
"""
import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

rng = np.random.default_rng(20)
EDGES = [0x0001, 0x03FF, 0x8000, 0x7BFF, 0xFBFF, 0x3C00, 0x0000, 0x8001]


def halves(n):
    out = []
    for i in range(n):
        if i < len(EDGES):
            out.append(EDGES[i])
        else:
            # a normal half of random sign and exponent (no inf/nan)
            out.append(int(rng.integers(0x0400, 0x7C00)) | (0x8000 if rng.random() < 0.5 else 0))
    perm = rng.permutation(n)
    return np.array(out, dtype=np.uint16)[perm]


# byte offsets of the float16 scales in each block
SCALES = {Q.Q8_0: [0], Q.Q4_0: [0], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208]}
N = 64


def blocks(t, offs):
    _, size = GGML_QUANT_SIZES[t]
    raw = rng.integers(0, 256, size=(N, size), dtype=np.uint8)
    for o in offs:
        raw[:, o:o + 2] = halves(N).view(np.uint8).reshape(N, 2)
    deq = quants.dequantize(raw.reshape(-1), t).astype("<f4")
    raw.tofile(f"{t.name}.bin")
    deq.tofile(f"{t.name}.f32")
    print(t.name, raw.shape, deq.shape)


for t, offs in SCALES.items():
    blocks(t, offs)

# Quantization: float rows (edge blocks first: all zero, -0 and subnormals, huge values, exact
# halves after scaling, one nonzero value) and gguf-py's Q8_0 / Q4_0 encoding, which it states is
# bit-exact with ggml's quantize_row_*_ref (what llama-quantize writes).
rows = rng.standard_normal((64, 32)).astype(np.float32) * rng.choice([1e-3, 1.0, 30.0], size=(64, 1)).astype(np.float32)
rows[0] = 0
rows[1] = np.float32(-0.0)
rows[1, ::3] = np.float32(1e-40)
rows[2, :] = np.float32(3e38) * np.sign(rng.standard_normal(32)).astype(np.float32)
rows[3] = (np.arange(32, dtype=np.float32) - 16) + 0.5
rows[4] = 0
rows[4, 7] = -2.5
rows[5] = np.linspace(-127, 127, 32, dtype=np.float32)
rows.astype("<f4").tofile("quantize.f32")
for t in (Q.Q8_0, Q.Q4_0):
    quants.quantize(rows, t).tofile(f"quantize.{t.name}.bin")
    print("quantize", t.name)

# added later (Q5_0, llama-quantize's fallback for short rows), drawn last so the files above stay as they were
blocks(Q.Q5_0, [0])
