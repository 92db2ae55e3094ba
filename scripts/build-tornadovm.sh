#!/usr/bin/env bash
# Builds a TornadoVM SDK (OpenCL backend) from a source checkout, for the jsteer `gpu` module.
#
# Usage: scripts/build-tornadovm.sh [SRC_DIR [SDK_DIR]]
#   SRC_DIR  TornadoVM source tree (default $TORNADOVM_SRC)
#   SDK_DIR  where the SDK is installed (default $TORNADOVM_SDK_DIR, else /work/tornadovm-sdk);
#            keep it outside the jsteer repository. An existing SDK_DIR is replaced.
#   TORNADOVM_GIT_DIR  a git repository (clone or mirror) holding the tag's objects: when the source
#            tree differs from the tag, the differing files are named from it (a git checkout as
#            SRC_DIR serves by itself); without one only the file count is given
#   TORNADOVM_ALLOW_INCOMPLETE=1  build from a tree that differs from the tag (a warning instead of
#            an error), e.g. a mirror that lacks a benchmark data file
# The last line printed is the SDK path: export it as TORNADOVM_HOME.
#
# Getting the source (this script downloads nothing but Maven Central artifacts and Debian packages):
#   git clone --branch v5.2.0-jdk25 --depth 1 https://github.com/beehive-lab/TornadoVM.git SRC_DIR
# or unpack the v5.2.0-jdk25 release source tarball
#   https://github.com/beehive-lab/TornadoVM/archive/refs/tags/v5.2.0-jdk25.tar.gz
# or export it from a local clone or mirror: git --git-dir=REPO archive v5.2.0-jdk25 | tar -x -C SRC_DIR
# The tree is checked against the tag first (its git tree hash over the files git does not ignore,
# so a previous build's outputs do not count): a missing or changed file is named, or counted.
#
# Why not TornadoVM's own `make` / bin/compile: it pip-installs Python packages, git-clones the
# Khronos OpenCL headers and fetches the Graal jars with Python requests. Here the headers come from
# Debian's opencl-headers, the Graal jars through Maven (dependency:copy), and the SDK layout steps
# (argfile generation) are done directly.
#
# Needs: a JDK 25 (JAVA_HOME, see scripts/with-jdk25.sh), Debian/Ubuntu apt (run as root or with
# sudo) for: pocl-opencl-icd (a CPU OpenCL device), ocl-icd-opencl-dev, opencl-headers, cmake, g++,
# python3 (the SDK's `tornado` launcher is a Python script), clinfo, git (to check the source tree).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-${TORNADOVM_SRC:-}}"
sdk="${2:-${TORNADOVM_SDK_DIR:-/work/tornadovm-sdk}}"
expected_version="5.2.0-jdk25"
# git rev-parse v5.2.0-jdk25^{tree}, and the number of files in it (commit db146ae5804d)
expected_tree="0eb77f793c51b6824d78ac428a2714d43b0de7bd"
expected_files=2316
graal_version="25.0.2"

if [ -z "$src" ]; then
  echo "error: no TornadoVM source given (argument 1 or TORNADOVM_SRC); see the header of $0" >&2
  exit 2
fi
if [ ! -f "$src/pom.xml" ] || ! grep -q '<artifactId>tornado</artifactId>' "$src/pom.xml"; then
  echo "error: $src is not a TornadoVM source tree (no tornado pom.xml)" >&2
  exit 2
fi
src="$(cd "$src" && pwd)"
case "$sdk/" in
  "$repo"/*) echo "error: SDK_DIR $sdk is inside the jsteer repository; put it outside" >&2; exit 2 ;;
esac
# SDK_DIR is replaced: refuse to delete a directory that is not a previous SDK.
if [ -e "$sdk" ] && [ ! -f "$sdk/etc/tornado.backend" ] && [ -n "$(ls -A "$sdk" 2>/dev/null)" ]; then
  echo "error: SDK_DIR $sdk exists and is not a TornadoVM SDK; not replacing it" >&2
  exit 2
fi
version="$(sed -n 's:^    <version>\(.*\)</version>:\1:p' "$src/pom.xml" | head -1)"
if [ "$version" != "$expected_version" ]; then
  echo "warning: TornadoVM source version is '$version', the gpu module is written against $expected_version" >&2
fi

# --- is the source tree the tag's? ------------------------------------------------------------
if ! command -v git >/dev/null; then
  echo "error: git is needed to check the source tree against the tag (apt-get install git)" >&2
  exit 2
fi
check="$(mktemp -d)"
trap 'rm -rf "$check"' EXIT
git init -q --bare "$check/git"
# a throw-away index over SRC_DIR: its .gitignore files leave out build outputs
tree_git() { GIT_DIR="$check/git" GIT_WORK_TREE="$src" GIT_INDEX_FILE="$check/index" git "$@"; }
tree_git add -A
tree="$(tree_git write-tree)"
files="$(tree_git ls-files | wc -l)"
if [ "$tree" = "$expected_tree" ]; then
  echo "source tree: the $files files of TornadoVM v$expected_version (tree $expected_tree)"
else
  objects=""
  for g in "${TORNADOVM_GIT_DIR:-}" "$src/.git"; do
    if [ -n "$g" ] && [ -d "$g/objects" ] && git --git-dir="$g" cat-file -e "$expected_tree" 2>/dev/null; then objects="$g/objects"; break; fi
  done
  echo "source tree $src differs from TornadoVM v$expected_version: $files files, the tag has $expected_files (tree $tree, expected $expected_tree)" >&2
  if [ -n "$objects" ]; then
    echo "differences (D: missing here, M: changed, A: not in the tag):" >&2
    GIT_ALTERNATE_OBJECT_DIRECTORIES="$objects" tree_git diff --name-status "$expected_tree" "$tree" | sed 's/^/  /' >&2
  else
    echo "(set TORNADOVM_GIT_DIR to a clone or mirror holding the tag to have the differing files named)" >&2
  fi
  if [ "${TORNADOVM_ALLOW_INCOMPLETE:-0}" != 1 ]; then
    echo "error: refusing to build from a tree that is not the tag's; TORNADOVM_ALLOW_INCOMPLETE=1 builds it anyway" >&2
    exit 2
  fi
  echo "warning: building anyway (TORNADOVM_ALLOW_INCOMPLETE=1)" >&2
fi
rm -rf "$check"
trap - EXIT

# --- system packages --------------------------------------------------------------------------
packages=(pocl-opencl-icd ocl-icd-opencl-dev opencl-headers cmake g++ python3 clinfo git)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

# --- JDK 25 -----------------------------------------------------------------------------------
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "25'; then
  JAVA_HOME="$("$repo/scripts/with-jdk25.sh" bash -c 'echo "$JAVA_HOME"')"
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

cd "$src"

# --- Graal compiler jars (Maven Central), put where TornadoVM's poms and assembly expect them ---
# (bin/pull_graal_jars.py also lists compiler-management, which Central does not have at 25.0.2;
# its download saves the 404 page, so nothing can rely on it.)
mkdir -p graalJars
for gav in \
  org.graalvm.compiler:compiler \
  org.graalvm.sdk:graal-sdk \
  org.graalvm.truffle:truffle-api \
  org.graalvm.truffle:truffle-compiler \
  org.graalvm.sdk:collections \
  org.graalvm.sdk:word \
  org.graalvm.polyglot:polyglot; do
  jar="graalJars/${gav#*:}-$graal_version.jar"
  if [ ! -s "$jar" ]; then
    ./mvnw -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="$gav:$graal_version" -DoutputDirectory="$src/graalJars" -Dmdep.overWriteIfNewer=true
  fi
done

# --- Maven build of the OpenCL backend --------------------------------------------------------
# bin/compile writes this file before the assembly; Maven filtering of it is unreliable.
echo "tornado.backends=opencl-backend" > tornado-assembly/src/etc/tornado.backend
# A previous build's SDK would be picked up below.
rm -rf dist
start=$(date +%s)
./mvnw -B -q -Pjdk25,opencl-backend -Dtornado.backend=opencl -DskipTests clean install
echo "maven build took $(( $(date +%s) - start )) s"

built=""
for d in dist/tornadovm-*-opencl-*/tornadovm-*; do
  if [ -d "$d" ]; then built="$d"; fi
done
if [ -z "$built" ]; then
  echo "error: the build produced no SDK directory under $src/dist" >&2
  exit 1
fi

# --- install the SDK --------------------------------------------------------------------------
rm -rf "$sdk.tmp"
mkdir -p "$(dirname "$sdk")"
cp -a "$built" "$sdk.tmp"
echo "tornado.backends=opencl-backend" > "$sdk.tmp/etc/tornado.backend"
# Jars that only the SDK's examples, benchmarks and unit tests use. Left on the module path, every
# one of them is resolved as an automatic module, and its packages then shadow the application's own
# copies on the class path (the SDK ships ejml 0.38; jsteer's steering module uses a newer one).
mkdir -p "$sdk.tmp/share/java/tornado-extras"
for prefix in ejml-core ejml-ddense ejml-dsparse ejml-simple junit hamcrest-core jmh-core lucene-core \
    jopt-simple commons-lang3 tornado-matrices tornado-unittests tornado-benchmarks tornado-examples tornado-fuzz; do
  found=0
  for jar in "$sdk.tmp/share/java/tornado/$prefix"-[0-9]*.jar; do
    if [ -f "$jar" ]; then mv "$jar" "$sdk.tmp/share/java/tornado-extras/"; found=1; fi
  done
  if [ "$found" = 0 ]; then echo "warning: no $prefix jar in the SDK to move off the module path" >&2; fi
done
# The argfile is what `tornado --printJavaFlags` prints plus the export lists; it is generated
# against the final location because it holds absolute paths.
rm -rf "$sdk"
mv "$sdk.tmp" "$sdk"
(cd "$sdk/bin" && TORNADOVM_HOME="$sdk" python3 gen-tornado-argfile-template.py opencl >/dev/null)
sed "s|\${TORNADOVM_HOME}|$sdk|g" "$sdk/tornado-argfile.template" > "$sdk/tornado-argfile"

echo "TornadoVM $version SDK (OpenCL) installed; export TORNADOVM_HOME=$sdk"
echo "$sdk"
