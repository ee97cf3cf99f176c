#!/usr/bin/env bash
# llamacpp_check.sh [BUILD_DIR] — checks that llama.cpp and KVScope decode the same 50 greedy tokens from
# GGUF files written by `kvscope-cli convert` (F32, F16, Q8_0; every Hugging Face fixture). See
# tools/llamacpp_check.mjs for what is compared.
#
# llama.cpp comes from the npm package node-llama-cpp, which ships llama.cpp's prebuilt binaries. It is
# installed into tools/.llamacpp (ignored by git) with NODE_LLAMA_CPP_SKIP_DOWNLOAD=true and
# --ignore-scripts, and loaded with build: "never", so it never downloads or compiles llama.cpp. Only the
# linux-x64 CPU binary package is installed (not the CUDA/Vulkan ones).
# Needs node >= 20 and npm; not run by CI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
DEPS=$ROOT/tools/.llamacpp
VERSION=3.22.1
CLI=$BUILD/app/cli/kvscope-cli
FIXTURES=${KVSCOPE_FIXTURES_DIR:-$ROOT/../shared/fixtures}

[ -x "$CLI" ] || { echo "llamacpp_check: $CLI not found; build first (cmake --build $BUILD)" >&2; exit 2; }
if [ ! -f "$DEPS/node_modules/node-llama-cpp/package.json" ] || \
   [ ! -d "$DEPS/node_modules/@node-llama-cpp/linux-x64" ]; then
    mkdir -p "$DEPS"
    [ -f "$DEPS/package.json" ] || echo '{"private": true}' > "$DEPS/package.json"
    echo "llamacpp_check: installing node-llama-cpp $VERSION into $DEPS" >&2
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --prefix "$DEPS" --no-audit --no-fund --ignore-scripts \
        --omit=optional "node-llama-cpp@$VERSION" "@node-llama-cpp/linux-x64@$VERSION" >&2
fi
NODE_LLAMA_CPP_SKIP_DOWNLOAD=true exec node "$ROOT/tools/llamacpp_check.mjs" "$CLI" "$FIXTURES"
