#!/usr/bin/env bash
# Builds the benchmarks (Maven profile `benchmarks`), generates the checkpoints (random weights,
# real shapes; not committed), runs the JMH suite and prints the tables of RESULTS.md (also
# written to $DIR/tables.md). Every ratio in the tables comes from this one run.
#
#   benchmarks/run.sh                           everything (~20 GB of checkpoints under $DIR, ~22 min)
#   MODELS="pythia-160m:bf16" benchmarks/run.sh
#   JMH="-wi 1 -i 2 -w 1 -r 1" benchmarks/run.sh   shorter iterations (exploratory, noisier)
#   CLEAN=1 benchmarks/run.sh                   delete the generated checkpoints afterwards
#
# Environment: JSTEER_BENCH_DIR (default /tmp/jsteer-bench), MODELS, JMH (extra JMH options),
# MVN (extra Maven options, e.g. -o), JAVA_HOME (a JDK 25; found automatically otherwise), CLEAN.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${JSTEER_BENCH_DIR:-/tmp/jsteer-bench}
MODELS=${MODELS:-"pythia-160m:bf16 pythia-160m:f32 pythia-410m:bf16 pythia-410m:f32 gemma-2-2b:bf16 gemma-2-2b:f32"}
JAVA="$(scripts/with-jdk25.sh sh -c 'echo "$JAVA_HOME"')/bin/java"
FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
JAR=benchmarks/target/benchmarks.jar
read -r -a JMH_OPTS <<< "${JMH:-}"

# shellcheck disable=SC2086
scripts/with-jdk25.sh ./mvnw -q ${MVN:-} -Pbenchmarks -pl benchmarks -am install -DskipTests

mkdir -p "$DIR"
echo "== disk under $DIR (the Gemma-2-2B f32 checkpoint alone is 10.5 GB)"
df -h "$DIR"
# shellcheck disable=SC2086
"$JAVA" "${FLAGS[@]}" -cp "$JAR" io.jsteer.benchmarks.ModelGenerator "$DIR" matrices $MODELS

names=$(echo $MODELS | tr ' :' ',-')
bf16=$(echo $MODELS | tr ' ' '\n' | grep ':bf16$' | tr ':' '-' | paste -sd, - || true)
rm -f "$DIR/results.jsonl"
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(uptime)"
jmh() { local b=$1; shift; "$JAVA" -jar "$JAR" "\\.$b\\." "$@" "${JMH_OPTS[@]}" -p dir="$DIR" -rf json -rff "$DIR/jmh-$b.json"; }

jmh MatVecBench
jmh DecodeBench -p model="$names"
jmh PrefillBench -p model="$names"
if [ -n "$bf16" ]; then jmh HookBench -p model="$bf16"; fi
for m in ${names//,/ }; do
  # its own JVM, so the high-water mark is this model's alone, with the launcher's JVM options;
  # 128 and 512 positions, to see the KV cache and whatever else grows with the context
  for decode in 64 448; do
    "$JAVA" @cli/jvm.options -cp "$JAR" io.jsteer.benchmarks.PeakRss "$DIR" "$m" 64 "$decode"
  done
done

"$JAVA" -cp "$JAR" io.jsteer.benchmarks.Report "$DIR" | tee "$DIR/tables.md"
if [ "${CLEAN:-0}" = 1 ]; then rm -rf "$DIR"; else echo "generated checkpoints kept in $DIR (rm -rf $DIR to free the disk)"; fi
