#!/usr/bin/env bash
# Builds llama.cpp's llama-bench from its source, twice: for this CPU (GGML_NATIVE, every ISA
# extension it has, e.g. AVX-512 BF16) and AVX2-only (the like-for-like peer of the Vector API,
# which has no BF16 dot product). Outside the repository; nothing here is committed or run by CI.
#
#   LLAMA_CPP=/work/peers/llama.cpp benchmarks/llama/build.sh
#
# LLAMA_CPP: a llama.cpp source tree (default /work/peers/llama.cpp; cloned from GitHub when
# absent). Existing builds are kept.
set -euo pipefail
SRC=${LLAMA_CPP:-/work/peers/llama.cpp}
if [ ! -f "$SRC/CMakeLists.txt" ]; then git clone --depth 1 https://github.com/ggml-org/llama.cpp "$SRC"; fi
common=(-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF)
build() {
  local dir=$1; shift
  if [ -x "$SRC/$dir/bin/llama-bench" ]; then echo "kept $SRC/$dir/bin/llama-bench"; return; fi
  cmake -S "$SRC" -B "$SRC/$dir" "${common[@]}" "$@" > "$SRC/$dir.cmake.log" 2>&1
  cmake --build "$SRC/$dir" -j "$(nproc)" --target llama-bench llama-quantize > "$SRC/$dir.build.log" 2>&1
  echo "built $SRC/$dir/bin/llama-bench"
}
build build-native -DGGML_NATIVE=ON
build build-avx2 -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF
