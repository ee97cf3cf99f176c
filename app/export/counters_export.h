// counters_export.h — the counters of every step as CSV (for a spreadsheet chart) or JSON.
//
// Both carry exactly the StepTrace's numbers (counters.h says what each one counts): integers as they
// are, seconds as the shortest decimal that reads back to the same double.
//
// CSV: a header row, then per run (cached, uncached), per step, one row per op class and a last row
// "total" (the sum over op classes, Counters::total()). Columns:
//   mode, step, phase, pos_begin, pos_end, op_class, flops, weight_bytes, kv_read, kv_written, seconds,
//   calls, tokens_processed, tokens_recomputed, kv_bytes_resident, kv_bytes_peak, wall_seconds
// The last five are the step's, repeated on each of its rows so any row can be filtered and charted alone.
//
// JSON: {"format": "kvscope-counters", "version": 1, "runs": [{"mode", "steps": [{"step", "phase",
//   "pos_begin", "pos_end", "input_tokens", "chosen", "counters", "cumulative"}]}]}, where "counters"
//   and "cumulative" are written as by `kvscope-cli trace --json` (totals plus "by_op").
#pragma once

#include <QByteArray>
#include <QString>
#include <vector>

#include "kvscope/status.h"
#include "kvscope/trace.h"

namespace kvscope::app {

struct CountersRun {
    SessionMode mode = SessionMode::cached;
    std::vector<StepTracePtr> steps;  // in step order, the prefill first
};

QByteArray countersCsv(const std::vector<CountersRun>& runs);
QByteArray countersJson(const std::vector<CountersRun>& runs);
Status writeCounters(const std::vector<CountersRun>& runs, bool json, const QString& path);

}  // namespace kvscope::app
