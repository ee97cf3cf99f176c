#!/usr/bin/env python3
"""tools/compare_builds.py BUILD[,BUILD...] RUNS kvscope-cli ARGS... — what a kvscope-cli command costs
as a whole process in each build: CPU time (user + sys, from wait4, microseconds) and peak resident memory,
the runs of the builds interleaved so a busy machine slows them alike; prints the medians.

Made to check that a CUDA-enabled build's CPU run costs what a CPU-only build's does:
  cmake -S . -B build-cpu -G Ninja -DKVSCOPE_CUDA=OFF -DKVSCOPE_BUILD_APP=OFF -DKVSCOPE_BUILD_TESTS=OFF
  cmake --build build-cpu --target kvscope-cli
  tools/compare_builds.py build,build-cpu 7 generate assets/models/kvscope-shakespeare.gguf \\
      --prompt "ROMEO:" --steps 200
"""
import os
import statistics
import sys


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    builds = sys.argv[1].split(",")
    runs = int(sys.argv[2])
    args = sys.argv[3:]
    results = {b: [] for b in builds}
    for _ in range(runs):
        for build in builds:
            exe = os.path.join(build, "app/cli/kvscope-cli")
            pid = os.fork()
            if pid == 0:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                os.execv(exe, [exe] + args)
            _, status, usage = os.wait4(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                print(f"{exe} {' '.join(args)}: exit {os.waitstatus_to_exitcode(status)}", file=sys.stderr)
                return 1
            results[build].append((usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0))
    first = None
    for build in builds:
        cpu = statistics.median(r[0] for r in results[build]) * 1000.0
        rss = statistics.median(r[1] for r in results[build])
        ratio = "" if first is None else f"  ({cpu / first[0]:.2f}x CPU, {rss / first[1]:.2f}x RSS of {builds[0]})"
        first = first or (cpu, rss)
        print(f"{build}: {cpu:.1f} ms CPU, {rss:.1f} MiB peak RSS (medians of {runs}){ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
