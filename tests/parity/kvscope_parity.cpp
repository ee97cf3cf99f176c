// kvscope_parity — checks the backends op by op and session by session, without Qt (it runs on GPU
// machines, which have none).
//
//   kvscope_parity --backend cpu             the CPU backend's ops against the plain reference (CI)
//   kvscope_parity --backend cuda            the CUDA backend's ops against the reference and the CPU, then
//                                            whole sessions on every fixture model against the CPU
//   options: --fixtures DIR (default: $KVSCOPE_FIXTURES, else the configured folder), --ops-only,
//            --sessions-only, --filter TEXT, --require-cuda
//
// One line per check (PASS / FAIL / SKIP), then "N passed, N failed, N skipped". Exit status: 0 when all
// passed, 1 when any failed or the arguments are wrong, 77 (CTest's SKIP_RETURN_CODE) when CUDA was asked
// for and no device is usable — unless --require-cuda, where that is a failure (on a GPU machine a
// missing driver must not pass as a skip).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "kvscope/backend.h"
#include "parity/backend_ops.h"
#include "parity/session_parity.h"

namespace {

constexpr int kSkipped = 77;

int usage(const char* error) {
    std::fprintf(
        stderr,
        "kvscope_parity: %s\n"
        "usage: kvscope_parity [--backend cpu|cuda] [--fixtures DIR] [--ops-only | --sessions-only]\n"
        "                      [--filter TEXT] [--require-cuda]\n",
        error);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kvscope;
    std::string backend_name = "cuda", filter;
    std::string fixtures =
        std::getenv("KVSCOPE_FIXTURES") ? std::getenv("KVSCOPE_FIXTURES") : KVSCOPE_FIXTURES_DIR;
    bool ops = true, sessions = true, require_cuda = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--backend") {
            const char* v = value();
            if (!v || (std::strcmp(v, "cpu") != 0 && std::strcmp(v, "cuda") != 0))
                return usage("--backend takes cpu or cuda");
            backend_name = v;
        } else if (arg == "--fixtures") {
            const char* v = value();
            if (!v) return usage("--fixtures takes a folder");
            fixtures = v;
        } else if (arg == "--filter") {
            const char* v = value();
            if (!v) return usage("--filter takes a text");
            filter = v;
        } else if (arg == "--ops-only") {
            sessions = false;
        } else if (arg == "--sessions-only") {
            ops = false;
        } else if (arg == "--require-cuda") {
            require_cuda = true;
        } else {
            return usage(("unknown argument '" + arg + "'").c_str());
        }
    }

    parity::Tally tally;
    // Tests check arithmetic and ctest runs several at once: two CPU threads at most.
    auto cpu = make_cpu_backend(std::min(2, int(std::thread::hardware_concurrency())));
    if (backend_name == "cpu") {
        std::printf("kvscope_parity: %s against the plain reference\n", cpu->name().c_str());
        if (ops) {
            parity::run_backend_ops({cpu}, filter, tally);
            parity::run_thread_count_check({make_cpu_backend(1), make_cpu_backend(2), make_cpu_backend(3)},
                                           filter, tally);
        }
        if (sessions)
            tally.skip("sessions",
                       "CPU against itself: nothing to compare (tests/test_sessions.cpp covers it)");
    } else {
        auto cuda = make_cuda_backend(0);
        if (!cuda) {
            if (require_cuda) {
                tally.check(false, "CUDA device (--require-cuda)", cuda.message());
                std::printf("0 passed, 1 failed, 0 skipped\n");
                return 1;
            }
            std::printf("SKIPPED: no CUDA device: %s\n", cuda.message().c_str());
            std::printf("0 passed, 0 failed, 1 skipped\n");
            return kSkipped;
        }
        std::printf("kvscope_parity: %s against the plain reference and %s\n", cuda.value()->name().c_str(),
                    cpu->name().c_str());
        if (ops) parity::run_backend_ops({cpu, cuda.value()}, filter, tally);
        if (sessions) {
            std::printf("kvscope_parity: sessions on the fixtures in %s\n", fixtures.c_str());
            parity::run_session_parity(fixtures, cpu, cuda.value(), filter, tally);
        }
    }
    std::printf("%d passed, %d failed, %d skipped\n", tally.passed, tally.failed, tally.skipped);
    return tally.failed > 0 ? 1 : 0;
}
