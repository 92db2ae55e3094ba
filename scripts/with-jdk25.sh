#!/usr/bin/env bash
# Runs a command with JAVA_HOME pointing at a JDK 25: the caller's JAVA_HOME when it is one,
# else the Temurin 25 JDK the machine image ships, else the first JDK 25 found under /usr/lib/jvm.
set -euo pipefail
is25() { [ -x "$1/bin/javac" ] && "$1/bin/java" -version 2>&1 | grep -q 'version "25'; }
if [ -n "${JAVA_HOME:-}" ] && is25 "$JAVA_HOME"; then
  :
elif is25 /usr/lib/jvm/temurin-25-jdk-amd64; then
  JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
else
  JAVA_HOME=""
  for d in /usr/lib/jvm/*; do if is25 "$d"; then JAVA_HOME="$d"; break; fi; done
  if [ -z "$JAVA_HOME" ]; then echo "error: no JDK 25 found (set JAVA_HOME to one)" >&2; exit 1; fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
exec "$@"
