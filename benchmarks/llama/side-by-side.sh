#!/usr/bin/env bash
# jsteer next to llama.cpp on the same random weights, alternating, on this machine; prints one
# table of ratios. Not run by CI, nothing it writes is committed.
#
#   benchmarks/llama/side-by-side.sh                     pythia-410m and gemma-2-2b, BF16, 2 rounds
#   MODELS="pythia-410m:bf16" ROUNDS=3 benchmarks/llama/side-by-side.sh
#
# Steps: builds llama-bench twice from llama.cpp's source (build.sh: native, and AVX2-only, the
# like-for-like peer of the Vector API); writes the jsteer checkpoints (ModelGenerator) and
# converts each to GGUF in BF16 and F16 with llama.cpp's own gguf-py writer (to_gguf.py; needs
# python3 with numpy); then per round and model runs, one after another: llama.cpp native BF16,
# jsteer (JMH PrefillBench + DecodeBench), llama.cpp AVX2-only BF16, llama.cpp native F16.
# (JMH names are regular expressions: "\.DecodeBench\." keeps BatchedDecodeBench out.)
# Prefill = a 128-token prompt (llama-bench pp128), decode = one token (tg16 there, positions
# 32-95 in DecodeBench). Ratios are jsteer tokens/s over llama.cpp tokens/s, medians over rounds.
#
# Environment: LLAMA_CPP (source tree, default /work/peers/llama.cpp), JSTEER_BENCH_DIR
# (default /tmp/jsteer-bench), MODELS, ROUNDS, THREADS (default: all cores), MVN.
# Run it alone on the machine (under the team's heavy lock where there is one).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=benchmarks/llama
SRC=${LLAMA_CPP:-/work/peers/llama.cpp}
DIR=${JSTEER_BENCH_DIR:-/tmp/jsteer-bench}
MODELS=${MODELS:-"pythia-410m:bf16 gemma-2-2b:bf16"}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-$(nproc)}
JAVA="$(scripts/with-jdk25.sh sh -c 'echo "$JAVA_HOME"')/bin/java"
FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
JAR=benchmarks/target/benchmarks.jar
OUT="$DIR/side-by-side"

LLAMA_CPP="$SRC" "$HERE/build.sh"
# shellcheck disable=SC2086
scripts/with-jdk25.sh ./mvnw -q ${MVN:-} -Pbenchmarks -pl benchmarks -am install -DskipTests
mkdir -p "$DIR" "$OUT"
# shellcheck disable=SC2086
"$JAVA" "${FLAGS[@]}" -cp "$JAR" io.jsteer.benchmarks.ModelGenerator "$DIR" $MODELS
for m in $MODELS; do
  name=${m/:/-}
  case $name in gemma*) tok=build-cache/tokenizers/gemma/tokenizer.json ;; *) tok=build-cache/tokenizers/pythia/tokenizer.json ;; esac
  for t in bf16 f16; do
    g="$DIR/gguf/$name.$t.gguf"
    if [ ! -f "$g" ]; then
      mkdir -p "$DIR/gguf"
      PYTHONPATH="$SRC/gguf-py" python3 "$HERE/to_gguf.py" "$DIR/$name" "$g.part" "$t" "$tok" > "$OUT/convert-$name-$t.log"
      mv "$g.part" "$g"
    fi
  done
done

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $THREADS threads; $(date -u +%FT%TZ)"
rm -f "$OUT"/*.jsonl
llama() {  # build gguf-type label round
  "$SRC/$1/bin/llama-bench" -m "$DIR/gguf/$2.$3.gguf" -t "$THREADS" -p 128 -n 16 -r 3 -o jsonl 2>/dev/null \
    | sed "s/^{/{\"peer\":\"$4\",\"model\":\"$2\",\"round\":$5,/" >> "$OUT/llama.jsonl"
}
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODELS; do
    name=${m/:/-}
    llama build-native "$name" bf16 "llama.cpp BF16" "$r"
    rm -f "$DIR/results.jsonl"
    for b in PrefillBench DecodeBench; do
      "$JAVA" -jar "$JAR" "\\.$b\\." -p model="$name" -p dir="$DIR" -wi 1 -i 3 -r 3 -w 3 -f 1 > "$OUT/jmh-$b-$name-$r.log" 2>&1
    done
    sed "s/^{/{\"round\":$r,/" "$DIR/results.jsonl" >> "$OUT/jsteer.jsonl"
    llama build-avx2 "$name" bf16 "llama.cpp BF16 AVX2-only" "$r"
    llama build-native "$name" f16 "llama.cpp F16" "$r"
  done
done
python3 "$HERE/report.py" "$OUT" | tee "$OUT/table.md"
