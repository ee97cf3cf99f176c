#!/bin/sh
# tools/deps.sh — installs the Debian 12 packages KVScope builds and tests with, if any are missing.
# Runs apt-get only when something is missing, so it is cheap to call before every build.
# Must run as root (or with sudo available). `tools/deps.sh fuzz` adds clang for the fuzz targets.
set -eu

PACKAGES="
  cmake ninja-build g++ pkg-config clang-format git
  libeigen3-dev nlohmann-json3-dev libpcre2-dev libicu-dev libcli11-dev zlib1g-dev
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev libgl-dev libegl-dev
  libimgui-dev libstb-dev
  libgl1-mesa-dri libglx-mesa0 libegl-mesa0 xvfb xauth
  libavcodec-dev libavformat-dev libavfilter-dev libswscale-dev libavutil-dev qt6-svg-dev
"

# `tools/deps.sh fuzz`: also clang with libFuzzer, for tools/fuzz.sh and tools/ci-sanitize.sh.
if [ "${1:-}" = "fuzz" ]; then
  PACKAGES="$PACKAGES clang-14 libclang-rt-14-dev"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "tools/deps.sh: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "tools/deps.sh: missing packages and not root (run as root, or install:$missing)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
