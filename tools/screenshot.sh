#!/bin/sh
# tools/screenshot.sh — takes the README's screenshots: the app under Xvfb at 1920×1080 (or $SCREEN), a prompt
# typed and twenty steps after the prefill, the whole screen captured with ImageMagick's `import`.
#
#   tools/screenshot.sh [OUT.png] [kvscope options...]
#   tools/screenshot.sh docs/screenshot.png                       # the embedded model and its default prompt
#   tools/screenshot.sh docs/screenshot.png --model M --prompt "1, 15, 27"
#   SCREEN=1280x720 tools/screenshot.sh docs/presenter-720p.png --presenter   # presenter mode on a projector
#
# Needs the built app (build/app/kvscope), Xvfb (tools/deps.sh installs it) and ImageMagick (`import`).
# Environment: SCREEN (default 1920x1080), DISPLAY_NUMBER (the Xvfb display; default one of :90..:98, for
# sessions that share a machine), STEPS (default 20: the prefill and twenty decode steps).
set -eu
cd "$(dirname "$0")/.."
out=${1:-docs/screenshot.png}
[ $# -gt 0 ] && shift
app=build/app/kvscope
[ -x "$app" ] || { echo "tools/screenshot.sh: build the app first ($app is missing)" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "tools/screenshot.sh: needs Xvfb (apt-get install xvfb)" >&2; exit 1; }
command -v import >/dev/null || { echo "tools/screenshot.sh: needs ImageMagick (apt-get install imagemagick)" >&2; exit 1; }

case " $* " in *" --prompt "*) ;; *) set -- "$@" --prompt "ROMEO: But soft, what light through yonder window breaks?" ;; esac

display=:${DISPLAY_NUMBER:-$(( 90 + $$ % 9 ))}
Xvfb "$display" -screen 0 "${SCREEN:-1920x1080}x24" >/dev/null 2>&1 &
xvfb=$!
log=$(mktemp)
cleanup() { kill "$app_pid" 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
sleep 1
# A fresh configuration (XDG_CONFIG_HOME) so saved layouts or themes do not change the picture.
config=$(mktemp -d)
DISPLAY=$display XDG_CONFIG_HOME=$config "$app" --steps "${STEPS:-20}" "$@" 2>"$log" &
app_pid=$!
for _ in $(seq 1 600); do
  grep -q "steps done" "$log" && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done
grep -q "steps done" "$log" || { echo "tools/screenshot.sh: the steps did not finish" >&2; cat "$log" >&2; exit 1; }
sleep 1.5  # let the last step's highlight animations finish
mkdir -p "$(dirname "$out")"
DISPLAY=$display import -window root "$out"
rm -rf "$config"
echo "tools/screenshot.sh: wrote $out" >&2
