#!/usr/bin/env bash
# jsteer and llama.cpp on the same GGUF files, alternating, in one run: for each round and each
# file, GgufBench (JMH: decode one token at positions 32-95, prefill 128 tokens) then llama-bench
# (-p 128 -n 32, 2 threads, 2 repetitions). Prints each pair and the ratio, jsteer speed over
# llama.cpp's. Nothing here runs in CI or is committed. Files: llama.cpp's own llama-quantize
# output (Q8_0, Q4_K_M) of the random-weight checkpoints ModelGenerator writes (to_gguf.py, BF16).
# Keep each run short on a shared machine (one or two files) and run it under the heavy lock.
#
#   FILES="/tmp/jsteer-gguf/pythia-410m.Q8_0.gguf ..." ROUNDS=1 benchmarks/llama/side-by-side-gguf.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LLAMA=${LLAMA_BENCH:-/work/peers/llama.cpp/build-native/bin/llama-bench}
ROUNDS=${ROUNDS:-1}
THREADS=${THREADS:-2}
OUT=${OUT:-/tmp/jsteer-gguf/side-by-side}
mkdir -p "$OUT"
JAVA="$(scripts/with-jdk25.sh sh -c 'echo "$JAVA_HOME"')/bin/java"
JAR=benchmarks/target/benchmarks.jar
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $THREADS threads, llama-bench $LLAMA; $(date -u +%FT%TZ)"
for r in $(seq 1 "$ROUNDS"); do
  for f in $FILES; do
    n=$(basename "$f" .gguf)
    "$JAVA" -Djava.util.concurrent.ForkJoinPool.common.parallelism="$THREADS" -jar "$JAR" GgufBench -p file="$f" -rf json -rff "$OUT/jsteer-$n-$r.json" > "$OUT/jsteer-$n-$r.log" 2>&1
    "$LLAMA" -m "$f" -t "$THREADS" -p 128 -n 32 -r 2 -o json > "$OUT/llama-$n-$r.json" 2> "$OUT/llama-$n-$r.log"
    python3 - "$OUT" "$n" "$r" <<'PY'
import json, sys
out, n, r = sys.argv[1:]
j = {b["benchmark"].split(".")[-1]: b["primaryMetric"]["score"] for b in json.load(open(f"{out}/jsteer-{n}-{r}.json"))}
l = json.load(open(f"{out}/llama-{n}-{r}.json"))
pp = next(x for x in l if x["n_prompt"] > 0)
tg = next(x for x in l if x["n_gen"] > 0)
llama_decode_ms = 1000 / tg["avg_ts"]
llama_prefill_ms = 128 * 1000 / pp["avg_ts"]
print(f"{n} round {r}: decode jsteer {j['decode']:.2f} ms, llama.cpp {llama_decode_ms:.2f} ms, jsteer speed {llama_decode_ms / j['decode']:.2f}x; "
      f"prefill-128 jsteer {j['prefill']:.1f} ms, llama.cpp {llama_prefill_ms:.1f} ms, jsteer speed {llama_prefill_ms / j['prefill']:.2f}x", flush=True)
PY
  done
done
