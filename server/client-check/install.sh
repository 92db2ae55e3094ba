#!/usr/bin/env bash
# Copyright the jsteer authors.
# SPDX-License-Identifier: Apache-2.0
#
# Installs the official `openai` npm client, at the version package-lock.json pins, next to
# check.mjs. The tests module runs it at build time (generate-test-resources), as the modules run
# scripts/fetch-tokenizers.sh, so that OpenAiClientTest drives the server with it offline at test
# time. An installed copy of the locked version is kept, so repeated builds cost nothing. Without
# node and npm it says so and installs nothing (OpenAiClientTest then skips, naming the cause).
set -euo pipefail

dir="$(cd "$(dirname "$0")" && pwd)"
cd "$dir"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "client-check: node or npm not found; the openai client check (OpenAiClientTest) will be skipped" >&2
  exit 0
fi
want="$(node -p 'require("./package-lock.json").packages["node_modules/openai"].version')"
have="$(node -p 'try { require("./node_modules/openai/package.json").version } catch { "" }')"
if [ "$have" = "$want" ]; then
  exit 0
fi
echo "client-check: npm ci (openai $want) in $dir" >&2
npm ci --no-audit --no-fund --loglevel=error
