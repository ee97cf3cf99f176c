#!/bin/sh
# tools/run-with-xvfb.sh COMMAND [ARGS...] — runs a command on its own virtual X display (Xvfb), with
# Qt's xcb platform, and stops the display afterwards; exits with the command's status.
#
# Why: Debian's Qt 6.4 makes OpenGL contexts only through a display. Its "offscreen" platform uses GLX
# and so needs an X server, and then silently hands out a compatibility profile; "minimalegl"/"eglfs"
# need a window surface or a DRM device. On a machine without a display (CI) OpenGL work — export, GL
# tests — runs here: Mesa's llvmpipe renders a true 3.3+ core profile into Xvfb's memory. Each run gets
# its own server (Xvfb -displayfd picks a free display number atomically), so parallel ctest jobs do not
# race for one, and nothing ever shows on a real desktop.
set -eu
if [ $# -eq 0 ]; then
  echo "usage: tools/run-with-xvfb.sh COMMAND [ARGS...]" >&2
  exit 2
fi
if ! command -v Xvfb >/dev/null 2>&1; then
  echo "run-with-xvfb: Xvfb is not installed (tools/deps.sh installs the xvfb package)" >&2
  exit 1
fi
dir=$(mktemp -d)
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$dir/display" 2>"$dir/xvfb.log" &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
# Xvfb writes the display number once it accepts connections.
tries=0
while [ ! -s "$dir/display" ]; do
  if ! kill -0 "$xvfb" 2>/dev/null; then
    echo "run-with-xvfb: Xvfb did not start:" >&2
    cat "$dir/xvfb.log" >&2
    exit 1
  fi
  tries=$((tries + 1))
  if [ "$tries" -gt 300 ]; then
    echo "run-with-xvfb: Xvfb gave no display number within 30 s" >&2
    exit 1
  fi
  sleep 0.1
done
DISPLAY=":$(head -n 1 "$dir/display")"
QT_QPA_PLATFORM=xcb
export DISPLAY QT_QPA_PLATFORM
status=0
"$@" || status=$?
exit "$status"
