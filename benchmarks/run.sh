#!/usr/bin/env bash
# Generates the benchmark checkpoints (random weights, real shapes) and runs the JMH suite with
# short settings, then prints the tables for RESULTS.md (also written to $DIR/tables.md).
#
#   benchmarks/run.sh                      everything (needs ~20 GB of disk under $DIR)
#   MODELS="pythia-160m:bf16" benchmarks/run.sh
#   CLEAN=1 benchmarks/run.sh              delete the generated checkpoints afterwards
#
# Environment: JSTEER_BENCH_DIR (default /tmp/jsteer-bench), MODELS, JAVA_HOME, CLEAN.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${JSTEER_BENCH_DIR:-/tmp/jsteer-bench}
MODELS=${MODELS:-"pythia-160m:bf16 pythia-160m:f32 pythia-410m:bf16 pythia-410m:f32 gemma-2-2b:bf16 gemma-2-2b:f32"}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
JAR=benchmarks/target/benchmarks.jar

./mvnw -q install -DskipTests
./mvnw -q -f benchmarks/pom.xml package

mkdir -p "$DIR"
echo "== disk under $DIR (the Gemma-2-2B f32 checkpoint alone is 10.5 GB)"
df -h "$DIR"
"$JAVA" "${FLAGS[@]}" -cp "$JAR" io.jsteer.benchmarks.ModelGenerator "$DIR" matrices $MODELS

names=$(echo $MODELS | tr ' :' ',-')
bf16=$(echo $MODELS | tr ' ' '\n' | grep ':bf16$' | tr ':' '-' | paste -sd, -)
rm -f "$DIR/results.jsonl"
jmh() { "$JAVA" -jar "$JAR" "$@" -p dir="$DIR" -rf json -rff "$DIR/jmh-$1.json"; }

jmh MatVecBench
jmh DecodeBench -p model="$names"
jmh PrefillBench -p model="$names"
[ -n "$bf16" ] && jmh HookBench -p model="$bf16"
for m in ${names//,/ }; do
  # its own JVM, so the high-water mark is this model's alone
  "$JAVA" "${FLAGS[@]}" -Xmx1g -cp "$JAR" io.jsteer.benchmarks.PeakRss "$DIR" "$m" 64 64
done

"$JAVA" -cp "$JAR" io.jsteer.benchmarks.Report "$DIR" | tee "$DIR/tables.md"
if [ "${CLEAN:-0}" = 1 ]; then rm -rf "$DIR"; else echo "generated checkpoints kept in $DIR (rm -rf $DIR to free the disk)"; fi
