#!/usr/bin/env bash
# Offline cross-check of jsteer's llama.cpp control-vector export against ggml's own GGUF reader
# (not part of CI, which cannot fetch ggml): builds ggml-base from a ggml source checkout, then
# loads each GGUF given under the rules of llama.cpp's control-vector loader (direction.N, N >= 1,
# 1-D F32 tensors of one width) and prints each direction's first values and norm.
#
# Usage: scripts/ggml-gguf-check.sh GGML_SOURCE_DIR FILE.gguf...
#   e.g. ./jsteer export --vector v.safetensors --gguf cv.gguf && scripts/ggml-gguf-check.sh ~/src/ggml cv.gguf
set -euo pipefail
src="$(cd "$1" && pwd)"
shift
here="$(cd "$(dirname "$0")" && pwd)"
build="${TMPDIR:-/tmp}/jsteer-ggml-build"
cmake -S "$src" -B "$build" -DGGML_CPU=OFF -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target ggml-base -j"$(nproc)" >/dev/null
g++ -O1 -std=c++17 -I"$src/include" "$here/ggml-gguf-check.cpp" -L"$build/src" -lggml-base -o "$build/gguf-check"
for f in "$@"; do
  echo "== $f"
  LD_LIBRARY_PATH="$build/src" "$build/gguf-check" "$f"
done
