#!/bin/sh
# tools/gpu_carry.sh — fills .carry/ (ignored by git) with what a GPU machine without internet, Qt or
# Debian's -dev packages needs to build core, kvscope-cli and kvscope_parity, and to run the parity check:
#
#   .carry/sysroot/usr   headers and CMake/pkg-config files of Eigen 3, nlohmann-json, CLI11 and PCRE2
#                        (libpcre2-8.a too), unpacked from this machine's Debian packages: header-only
#                        libraries, and a static library that needs nothing newer than glibc 2.36;
#   .carry/fixtures      the model fixtures (tiny-*/ and README.md) from ../shared/fixtures.
#
# Run it here (Debian, apt-get working), from the repository root or anywhere; then name .carry in the
# device tool's `carry` and configure with -DCMAKE_PREFIX_PATH=$PWD/.carry/sysroot/usr (tools/README-gpu.md).
# About 17 MiB.
set -eu
cd "$(dirname "$0")/.."
FIXTURES=${KVSCOPE_FIXTURES:-../shared/fixtures}
CARRY=.carry
PACKAGES="libeigen3-dev nlohmann-json3-dev libcli11-dev libpcre2-dev libpcre2-8-0"

[ -f "$FIXTURES/README.md" ] || { echo "tools/gpu_carry.sh: no fixtures at $FIXTURES (set KVSCOPE_FIXTURES)" >&2; exit 1; }
rm -rf "$CARRY/sysroot" "$CARRY/fixtures" "$CARRY/debs"
mkdir -p "$CARRY/debs" "$CARRY/sysroot" "$CARRY/fixtures"
# shellcheck disable=SC2086
if ! (cd "$CARRY/debs" && apt-get download $PACKAGES); then
  echo "tools/gpu_carry.sh: apt-get download failed (run 'apt-get update' first)" >&2
  exit 1
fi
for deb in "$CARRY"/debs/*.deb; do dpkg-deb -x "$deb" "$CARRY/sysroot"; done
rm -rf "$CARRY/debs" "$CARRY/sysroot/usr/share/doc" "$CARRY/sysroot/usr/share/man"
cp -r "$FIXTURES/README.md" "$FIXTURES"/tiny-* "$CARRY/fixtures/"
du -sh "$CARRY"
