#!/bin/bash
# tools/cold_start.sh [APP] [RUNS] — how long the app takes from being started to its first step: the
# seconds from exec to the line "kvscope: 1 steps done" (the prefill's traces have reached the window),
# with the embedded model and the prompt "ROMEO:", each run a fresh process on its own Xvfb (1920x1080).
# The seconds are the app's own, in that line: the time since the kernel started the process, so the
# script's polling (a grep every 100 ms) neither delays nor counts. Prints each run (wall seconds, and the
# CPU seconds the process had used by then: on a busy machine the wall time measures the machine, the CPU
# time the app), then the medians. The files read are in the page cache after the first run, as they are
# when a teacher starts the app a second time; the first run is reported but not in the median.
#   tools/cold_start.sh build/app/kvscope 6
# COLD_START_ARGS adds options to the app's command line (e.g. "--gl-surface widget").
set -u
APP=${1:-build/app/kvscope}
RUNS=${2:-6}
if ! command -v Xvfb >/dev/null 2>&1; then
  echo "cold_start: Xvfb is not installed" >&2
  exit 1
fi
dir=$(mktemp -d)
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$dir/display" 2>"$dir/xvfb.log" &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -s "$dir/display" ]; do sleep 0.05; done
export DISPLAY=":$(head -n 1 "$dir/display")" QT_QPA_PLATFORM=xcb
export XDG_CONFIG_HOME="$dir/config"  # no remembered settings, window or prompt

times=()
cpus=()
for i in $(seq 1 "$RUNS"); do
  : >"$dir/err"
  start=$(date +%s.%N)
  "$APP" --prompt "ROMEO:" --steps 1 ${COLD_START_ARGS:-} 2>"$dir/err" >/dev/null &
  pid=$!
  took=""
  for _ in $(seq 1 3000); do
    if grep -q "1 steps done" "$dir/err"; then
      took=$(sed -n 's/.*1 steps done (\([0-9.]*\) s after the program started).*/\1/p' "$dir/err")
      [ -n "$took" ] || took=$(echo "$(date +%s.%N) - $start" | bc)  # an app from before that line
      read -r -a stat <"/proc/$pid/stat"
      cpu=$(echo "scale=3; (${stat[13]} + ${stat[14]}) / $(getconf CLK_TCK)" | bc)
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -z "$took" ]; then
    echo "run $i: no first step; stderr:" >&2
    cat "$dir/err" >&2
    exit 1
  fi
  printf 'run %d: %.3f s wall, %.2f s CPU%s\n' "$i" "$took" "$cpu" "$([ "$i" = 1 ] && echo ' (first: not in the median)')"
  [ "$i" -gt 1 ] && times+=("$took") && cpus+=("$cpu")
done
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median of $((RUNS - 1)): $(printf '%s\n' "${times[@]}" | median) s wall, $(printf '%s\n' "${cpus[@]}" | median) s CPU (load average: $(cut -d' ' -f1 /proc/loadavg))"
