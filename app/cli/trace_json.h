// trace_json.h — StepTraces as JSON (kvscope-cli trace --json, and the app's data export).
#pragma once

#include <nlohmann/json.hpp>

#include "kvscope/trace.h"

namespace kvscope::cli {

nlohmann::ordered_json counters_to_json(const Counters& c);
nlohmann::ordered_json trace_to_json(const StepTrace& t);

}  // namespace kvscope::cli
