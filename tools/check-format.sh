#!/bin/sh
# tools/check-format.sh — fails when a C++ source differs from the root .clang-format (CI runs it as a test).
# Fix with: clang-format -i $(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')
set -eu
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "check-format: clang-format is not installed (tools/deps.sh installs it)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')
else
  files=$(find core app tests tools -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh')
fi
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "check-format: $(echo "$files" | wc -w) files follow .clang-format"
