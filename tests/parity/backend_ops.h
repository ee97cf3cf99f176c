// backend_ops.h — every op of kvscope::Stream, on every backend given, against the plain reference in
// naive_ops.h (ggml's test-backend-ops is the model). Each case builds its inputs from a fixed seed, runs
// the op through a backend's own memory (allocate, upload, op, download, synchronize), and compares each
// output with the reference: the largest |backend − reference| divided by the largest |reference| must
// stay within the case's tolerance. With two backends (CPU and CUDA) each is compared with the reference
// and with the other. Shapes cover the fixture models, GPT-2 small, decode and prefill, GQA and MQA, and
// the edges of the CUDA kernels (row lengths not a multiple of 4, heads wider than a block, split keys).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kvscope/backend.h"
#include "parity/report.h"

namespace kvscope::parity {

// Runs the cases whose name contains `filter` (all when empty).
void run_backend_ops(const std::vector<std::shared_ptr<Backend>>& backends, const std::string& filter,
                     Tally& tally);

// The CPU backend with 1, 2, 3 … threads (the backends given): every case's outputs bit for bit the same,
// since each op splits its work so that no sum's order depends on the thread count; all but the products
// of several rows (prefill), whose GEMM blocks by the width each thread gets.
void run_thread_count_check(const std::vector<std::shared_ptr<Backend>>& cpus, const std::string& filter,
                            Tally& tally);

}  // namespace kvscope::parity
