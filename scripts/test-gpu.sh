#!/usr/bin/env bash
# Builds the gpu module against a TornadoVM SDK and runs its tests on the SDK's device, with
# TornadoVM's bailout to sequential Java disabled (-Dtornado.recover.bailout=False, set in
# gpu/pom.xml), so a kernel that fails to compile or run fails its test.
#
# Usage: scripts/test-gpu.sh [extra Maven arguments, e.g. -Dtest=TornadoBackendTest]
#   TORNADOVM_HOME  the SDK (scripts/build-tornadovm.sh prints it); default /work/tornadovm-sdk
# Without arguments (or with GPU_LAUNCHER=1) it also runs the ./jsteer launcher with --backend tornado
# (building its jars) and compares what it writes with --backend cpu.
#   GPU_BENCH=1     also print informational timings: one matvec, TornadoVM device vs a naive Java loop; and
#                   decoding per token, device forward pass vs the CPU model, on every fixture and on the
#                   built-in default model when built (build-cache/default-model)
set -euo pipefail
trap 'echo "scripts/test-gpu.sh: failed (exit $?): $BASH_COMMAND" >&2' ERR

repo="$(cd "$(dirname "$0")/.." && pwd)"
export TORNADOVM_HOME="${TORNADOVM_HOME:-/work/tornadovm-sdk}"
if [ ! -f "$TORNADOVM_HOME/tornado-argfile" ]; then
  echo "error: no TornadoVM SDK at $TORNADOVM_HOME (no tornado-argfile); build one with scripts/build-tornadovm.sh" >&2
  exit 2
fi
cd "$repo"
# shellcheck disable=SC2016
JAVA_HOME="$(scripts/with-jdk25.sh bash -c 'echo "$JAVA_HOME"')"
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"

# The compile-time API jar: the TornadoVM build installs it into ~/.m2; an SDK obtained otherwise
# ships the same jar, installed here.
version="$(sed -n 's:.*<tornadovm.version>\(.*\)</tornadovm.version>.*:\1:p' gpu/pom.xml)"
api_jar="$TORNADOVM_HOME/share/java/tornado/tornado-api-$version.jar"
m2="${MAVEN_REPO:-$HOME/.m2/repository}/io/github/beehive-lab/tornado-api/$version/tornado-api-$version.jar"
if [ ! -f "$m2" ]; then
  if [ ! -f "$api_jar" ]; then
    echo "error: $api_jar not found: the SDK is not TornadoVM $version" >&2
    exit 2
  fi
  ./mvnw -q -B org.apache.maven.plugins:maven-install-plugin:3.1.4:install-file -Dfile="$api_jar" \
    -DgroupId=io.github.beehive-lab -DartifactId=tornado-api -Dversion="$version" -Dpackaging=jar
fi

# The gpu module with the modules it and its tests use (the CLI and steering: HookParityTest,
# CliOnDeviceTest) built from this checkout in one reactor, never taken from ~/.m2, which other
# checkouts share. Only the gpu module's tests run: -Dtest selects them (every one but
# WithoutTornadoTest, which its own execution runs), unless a -Dtest argument is given.
tests=("-Dtest=io/jsteer/gpu/**/*Test, !io/jsteer/gpu/WithoutTornadoTest")
for a in "$@"; do
  case "$a" in -Dtest=*) tests=() ;; esac
done
./mvnw -B -o -Pgpu -pl gpu -am test -Dsurefire.failIfNoSpecifiedTests=false "${tests[@]}" "$@"

# The gpu module's test class path: this checkout's classes, then the third-party jars (TornadoVM's
# come from the SDK's module path instead).
classpath() {
  ./mvnw -q -B -o -f gpu/pom.xml org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/deps.txt -Dmdep.excludeArtifactIds=tornado-api -Dmdep.excludeGroupIds=io.jsteer >&2
  local own=""
  for m in gpu weights-loader transformer steering server cli; do own+="$m/target/classes:"; done
  echo "gpu/target/test-classes:$own$(cat gpu/target/deps.txt)"
}

if [ $# -eq 0 ] || [ "${GPU_LAUNCHER:-0}" = 1 ]; then
  # The launcher with --backend tornado: TornadoVM's flags, the gpu jar next to the CLI's.
  out="$(mktemp -d)"
  ids="3,17,42,5,99,7,11"
  for backend in cpu tornado; do
    ./jsteer logits --model tests/src/test/resources/fixtures/gemma2-tiny --ids "$ids" --backend "$backend" -o "$out/$backend.json" \
      2> "$out/$backend.err"
  done
  if ! grep -q "TornadoVM backend on " "$out/tornado.err" || grep -q "^warning" "$out/tornado.err"; then
    echo "error: ./jsteer --backend tornado did not run on a TornadoVM device, or warned:" >&2
    cat "$out/tornado.err" >&2
    exit 1
  fi
  cp="$(classpath)"
  java -cp "$cp" io.jsteer.gpu.SameOutputs "$out/cpu.json" "$out/tornado.json"
  rm -rf "$out"
fi

if [ "${GPU_BENCH:-0}" = 1 ]; then
  cp="$(classpath)"
  # libjsig: see TornadoBackend.signalChaining
  export LD_PRELOAD="$JAVA_HOME/lib/libjsig.so"
  java @"$TORNADOVM_HOME/tornado-argfile" -Dtornado.recover.bailout=False --add-modules jdk.incubator.vector \
    --enable-native-access=ALL-UNNAMED -cp "$cp" io.jsteer.gpu.MatVecTiming
  models=()
  for m in tests/src/test/resources/fixtures/*/; do
    if [ -f "$m/model.safetensors" ]; then models+=("$m"); fi
  done
  [ -f build-cache/default-model/model.safetensors ] && models+=(build-cache/default-model)
  java @"$TORNADOVM_HOME/tornado-argfile" -Dtornado.recover.bailout=False --add-modules jdk.incubator.vector \
    --enable-native-access=ALL-UNNAMED -cp "$cp" io.jsteer.gpu.DecodeTiming "${models[@]}"
fi
