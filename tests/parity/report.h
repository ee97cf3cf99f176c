// report.h — how kvscope_parity reports: one line per check (PASS / FAIL / SKIP, a name, the figures),
// and a closing "N passed, N failed, N skipped" line.
#pragma once

#include <cstdio>
#include <string>

namespace kvscope::parity {

struct Tally {
    int passed = 0, failed = 0, skipped = 0;

    void check(bool ok, const std::string& name, const std::string& detail) {
        std::printf("%s  %-58s %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
        std::fflush(stdout);
        (ok ? passed : failed) += 1;
    }
    void skip(const std::string& name, const std::string& why) {
        std::printf("SKIP  %-58s %s\n", name.c_str(), why.c_str());
        std::fflush(stdout);
        skipped += 1;
    }
};

// "%.3g" of a double, for details.
inline std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

}  // namespace kvscope::parity
