#!/usr/bin/env bash
# Copyright the jsteer authors.
# SPDX-License-Identifier: Apache-2.0
# Converts the real tokenizers (scripts/fetch-tokenizers.sh) to GGUF with tokenizer_to_gguf.py
# (llama.cpp's gguf-py) and writes the digests of their tokenizer.ggml.* metadata to digests.txt.
# usage: make_digests.sh LLAMA_CPP_DIR TOKENIZERS_DIR   (offline; Python 3 with numpy)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
llama="$1"; toks="$2"; tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
{
  echo "# name pre sha256 of the tokenizer.ggml.* metadata gguf-py writes (make_digests.sh)"
  for entry in "pythia olmo" "gemma default" "gemma3 default" "llama2 default" "llama3 llama-bpe" "llama3_1 llama-bpe" "qwen3 qwen2"; do
    set -- $entry
    d="$(PYTHONPATH="$llama/gguf-py" python3 "$here/tokenizer_to_gguf.py" "$toks/$1" "$2" "$tmp/$1.gguf" 2>/dev/null | awk '{print $2}')"
    echo "$1 $2 $d"
  done
} > "$here/digests.txt"
