#!/usr/bin/env bash
# Copyright the jsteer authors.
# SPDX-License-Identifier: Apache-2.0
#
# The llama.cpp side of the cross-checks (GgufLlamaCppTest), made offline with llama.cpp itself;
# CI only reads the results. Run from anywhere:
#   LLAMA_CPP=/work/peers/llama.cpp tests/src/test/resources/fixtures-gguf/make_llamacpp.sh
# Needs a llama.cpp build (benchmarks/llama/build.sh: build-avx2 for the library, whose CPU code
# runs on any x86-64 with AVX2; build-native/bin/llama-quantize) and Python 3 with numpy.
#  1. make_gguf.py writes the tiny model files (gguf-py, as llama.cpp's converter).
#  2. llama-quantize makes F16, Q4_K_M (and Q8_0 where make_gguf.py has none) from each F32 file.
#     The tiny models' rows are too short for K-quants in places, so llama-quantize falls back to
#     Q5_0/Q8_0 there (its own rule), as it does for such tensors in real models.
#  3. cvec/<model>.gguf: a control vector (gguf-py, as llama.cpp's cvector-generator writes them)
#     with a random direction for every layer llama.cpp can steer (1 .. layers-1).
#  4. llama_logits.c, linked against libllama: logits/<file>.f32, llama.cpp's logits for IDS at
#     every position; logits/<model>.cvec.f32 the same on the F32 file with the control vector at
#     strength 1.5 (what llama-cli --control-vector-scaled FILE 1.5 applies); tokens.tsv, the ids
#     llama.cpp's tokenizer gives a few texts with each model's embedded vocabulary.
set -euo pipefail
LLAMA=${LLAMA_CPP:-/work/peers/llama.cpp}
LIB=${LLAMA_LIB:-$LLAMA/build-avx2/bin}
QUANTIZE=${LLAMA_QUANTIZE:-$LLAMA/build-native/bin/llama-quantize}
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export PYTHONPATH="$LLAMA/gguf-py"

python3 make_gguf.py > /dev/null
gcc -O2 -o "$tmp/llama-logits" llama_logits.c -I"$LLAMA/include" -I"$LLAMA/ggml/include" -L"$LIB" -lllama -lggml -lggml-base -Wl,-rpath,"$LIB"

MODELS="pythia-tiny-parallel gemma-tiny gemma2-tiny gemma3-tiny llama2-tiny mistral-tiny qwen2-tiny qwen3-tiny llama3-tiny"
IDS=1,17,42,99,250,7,300,5,128,64
mkdir -p logits cvec
for m in $MODELS; do
  for t in F16 Q4_K_M Q8_0; do
    lower=$(echo "$t" | tr 'A-Z' 'a-z')
    [ -f "$m.$lower.gguf" ] && [ "$t" = Q8_0 ] && continue
    "$QUANTIZE" "$m.f32.gguf" "$m.$lower.gguf" "$t" > "$tmp/quantize.log" 2>&1 || { cat "$tmp/quantize.log"; exit 1; }
  done
  python3 - "$m" <<'PY'
import json, sys
import numpy as np
import gguf
m = sys.argv[1]
cfg = json.load(open(f"../fixtures/{m}/config.json"))
hint = {"gpt_neox": "gptneox", "gemma": "gemma", "gemma2": "gemma2", "gemma3_text": "gemma3", "llama": "llama",
        "mistral": "llama", "qwen2": "qwen2", "qwen3": "qwen3"}[cfg["model_type"]]
rng = np.random.default_rng(sum(map(ord, m)))
w = gguf.GGUFWriter(f"cvec/{m}.gguf", "controlvector")
w.add_string("controlvector.model_hint", hint)
layers = range(1, cfg["num_hidden_layers"])
w.add_int32("controlvector.layer_count", len(layers))
for l in layers:
    w.add_tensor(f"direction.{l}", (rng.standard_normal(cfg["hidden_size"]) * 0.5).astype(np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
PY
  for f in "$m".*.gguf; do
    "$tmp/llama-logits" "$f" "$IDS" "logits/${f%.gguf}.f32" 2>/dev/null
  done
  "$tmp/llama-logits" "$m.f32.gguf" "$IDS" "logits/$m.cvec.f32" "cvec/$m.gguf" 1.5 2>/dev/null
done
echo "$IDS" > logits/ids.txt

: > tokens.tsv
for m in $MODELS; do
  for text in "Hello world, the steering vector!" "the lazy dog jumps over 1234 quick foxes" $'Steering;  spaces\tand "quotes" \u00e9 \u00fc \U0001F600'; do
    printf '%s\t%s\t%s\n' "$m.f32.gguf" "$(printf '%s' "$text" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" \
      "$("$tmp/llama-logits" --tokenize "$m.f32.gguf" "$text" 2>/dev/null)" >> tokens.tsv
  done
done
echo "done: $(ls logits | wc -l) logit files, $(wc -l < tokens.tsv) tokenizations"
