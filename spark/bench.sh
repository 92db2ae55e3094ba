#!/usr/bin/env bash
# Runs ApplyBench (JMH, test sources of the spark module): steered apply over 2,000 prompts of the
# default model with Spark local[1] and local[2], 2 or 200 partitions. Never part of CI.
#   spark/bench.sh                    the full run (~5 min on 2 cores)
#   JMH="-i 2 -wi 1" spark/bench.sh   shorter
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a JMH_OPTS <<< "${JMH:-}"
scripts/with-jdk25.sh ./mvnw -q -B -ntp ${MVN:-} -pl spark -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test
JAVA="$(scripts/with-jdk25.sh sh -c 'echo "$JAVA_HOME"')/bin/java"
FLAGS="@$PWD/spark/jvm.options"
CP="spark/target/test-classes:spark/target/classes:$(cat spark/target/classpath.txt)"
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(uptime)"
# shellcheck disable=SC2086
"$JAVA" --add-modules jdk.incubator.vector $FLAGS -Djsteer.cache="$PWD/build-cache" -cp "$CP" org.openjdk.jmh.Main ApplyBench \
  -jvmArgsPrepend "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED $FLAGS -Djsteer.cache=$PWD/build-cache" "${JMH_OPTS[@]}"
