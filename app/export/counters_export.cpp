#include "export/counters_export.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "cli/trace_json.h"
#include "export/export_io.h"

namespace kvscope::app {
namespace {

// The shortest text that parses back to exactly `value` (std::to_chars' round-trip guarantee).
std::string exactDecimal(double value) {
    char text[64];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

void appendRow(std::string& csv, const CountersRun& run, const StepTrace& t, const char* opName,
               const OpCounters& o) {
    const Counters& c = t.counters;
    csv += session_mode_name(run.mode);
    for (const std::string& field :
         {std::to_string(t.step), std::string(phase_name(t.phase)), std::to_string(t.pos_begin),
          std::to_string(t.pos_end), std::string(opName), std::to_string(o.flops),
          std::to_string(o.weight_bytes), std::to_string(o.kv_read), std::to_string(o.kv_written),
          exactDecimal(o.seconds), std::to_string(o.calls), std::to_string(c.tokens_processed),
          std::to_string(c.tokens_recomputed), std::to_string(c.kv_bytes_resident),
          std::to_string(c.kv_bytes_peak), exactDecimal(c.wall_seconds)}) {
        csv += ',';
        csv += field;
    }
    csv += '\n';
}

}  // namespace

QByteArray countersCsv(const std::vector<CountersRun>& runs) {
    std::string csv =
        "mode,step,phase,pos_begin,pos_end,op_class,flops,weight_bytes,kv_read,kv_written,seconds,calls,"
        "tokens_processed,tokens_recomputed,kv_bytes_resident,kv_bytes_peak,wall_seconds\n";
    for (const CountersRun& run : runs)
        for (const StepTracePtr& step : run.steps) {
            assert(step && "a CountersRun holds no null steps");
            for (int i = 0; i < kOpClassCount; ++i)
                appendRow(csv, run, *step, op_class_name(static_cast<OpClass>(i)), step->counters.by_op[i]);
            appendRow(csv, run, *step, "total", step->counters.total());
        }
    return QByteArray::fromStdString(csv);
}

QByteArray countersJson(const std::vector<CountersRun>& runs) {
    nlohmann::ordered_json doc;
    doc["format"] = "kvscope-counters";
    doc["version"] = 1;
    nlohmann::ordered_json jruns = nlohmann::ordered_json::array();
    for (const CountersRun& run : runs) {
        nlohmann::ordered_json steps = nlohmann::ordered_json::array();
        for (const StepTracePtr& step : run.steps) {
            const StepTrace& t = *step;
            steps.push_back({{"step", t.step},
                             {"phase", phase_name(t.phase)},
                             {"pos_begin", t.pos_begin},
                             {"pos_end", t.pos_end},
                             {"input_tokens", t.input_tokens},
                             {"chosen", t.chosen},
                             {"counters", cli::counters_to_json(t.counters)},
                             {"cumulative", cli::counters_to_json(t.cumulative)}});
        }
        jruns.push_back({{"mode", session_mode_name(run.mode)}, {"steps", std::move(steps)}});
    }
    doc["runs"] = std::move(jruns);
    return QByteArray::fromStdString(doc.dump(2) + "\n");
}

Status writeCounters(const std::vector<CountersRun>& runs, bool json, const QString& path) {
    size_t steps = 0;
    for (const CountersRun& run : runs)
        steps += run.steps.size();
    if (steps == 0) return exportFailure(QStringLiteral("nothing to export: no steps have been run"));
    const QByteArray bytes = json ? countersJson(runs) : countersCsv(runs);
    return writeFileBytes(bytes, path);
}

}  // namespace kvscope::app
