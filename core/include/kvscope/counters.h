// counters.h — what a forward step cost, counted by the code that did the work.
//
// Each op helper in core/engine/ops.cpp computes its own counts from the shapes it was called with;
// nothing is estimated after the fact. The conventions, exactly:
//
// FLOPs (a multiply-add is 2 FLOPs; n = rows processed in this call, d = width):
//   matmul [n,k] x [k,m]           2·n·k·m, plus n·m when a bias is added
//   embedding lookup               0 (a copy); gpt2 adds learned positions: n·d
//   rmsnorm                        4·n·d   (square+sum 2d, scale by 1/rms d, times weight d)
//   layernorm                      7·n·d   (mean d, centre d, square+sum 2d, normalise d, scale+shift 2d)
//   rope                           3·n·hd per head rotated (per pair of dims: 4 mul + 2 add)
//   attention, per query head and query row over s keys:
//        scores  q·k               2·hd·s
//        softmax                   5·s     (scale s, subtract max s, exp s, sum s, divide s)
//        weighted sum of values    2·hd·s
//   swiglu  silu(g)·u              5·n·d_ff (negate, exp, add, divide, multiply)
//   gelu_tanh                      9·n·d_ff (x³ 2, ·0.044715 1, +x 1, ·√(2/π) 1, tanh 1, +1 1, ·x 1, ·½ 1)
//   residual add                   n·d
// The lm_head is run on the rows whose logits are asked for (the last row in generation; all prompt rows
// only when a caller asks for them), as Hugging Face's generate() does with or without a cache.
//
// Bytes (weights at their stored dtype; KV values at the cache's element type, `b` bytes a value with the
// scales of an int8/int4 cache included, b = 4 for the exact float32 cache: see kv_storage.h):
//   weights read     every weight tensor an op uses, once per call (a matmul streams its matrix once
//                    whatever n is); an embedding lookup reads only the n rows it gathers;
//   kv read          per layer and KV head, the K and V rows of the longest span any query in the call
//                    attends to, read once (query heads of a GQA group share them): 2·s_max·hd·b;
//   kv written       per layer and KV head, the K and V rows appended: 2·n·hd·b;
//   kv resident      bytes of K and V held in the cache after the step (the uncached run holds none
//                    between steps); kv peak is the most held during the step; kv full is what the exact
//                    float32 cache would hold for the same tokens (so bytes saved = full − resident);
//   kv rows evicted  rows an eviction policy dropped, summed over layers and KV heads.
// A variant cache's upkeep is not counted as FLOPs: encoding and decoding rows, and re-rotating the keys of
// a re-indexed cache after an eviction (kv_cache.h). Attention FLOPs and KV reads count the rows held.
// Activations and scratch buffers are not counted.
// Time is wall-clock seconds per op class measured around each op (CPU: steady_clock; CUDA: events).
#pragma once

#include <array>
#include <cstdint>

namespace kvscope {

enum class OpClass : uint8_t {
    embedding,   // token (and position) lookup
    norm,        // rmsnorm / layernorm (blocks and final)
    qkv,         // the fused Q,K,V projection
    rope,        // rotary position embedding of q and k
    kv_write,    // appending k, v rows to the cache
    attention,   // scores, softmax, weighted sum over the cache: the part that grows with context
    out_proj,    // attention output projection
    mlp,         // up/gate/down projections
    activation,  // swiglu / gelu
    residual,    // residual adds
    lm_head,     // final projection to vocabulary logits
    count
};
constexpr int kOpClassCount = static_cast<int>(OpClass::count);
const char* op_class_name(OpClass op);

struct OpCounters {
    uint64_t flops = 0;
    uint64_t weight_bytes = 0;  // weights read at their stored dtype
    uint64_t kv_read = 0;
    uint64_t kv_written = 0;
    double seconds = 0.0;
    uint64_t calls = 0;

    OpCounters& operator+=(const OpCounters& o) {
        flops += o.flops;
        weight_bytes += o.weight_bytes;
        kv_read += o.kv_read;
        kv_written += o.kv_written;
        seconds += o.seconds;
        calls += o.calls;
        return *this;
    }
};

struct Counters {
    std::array<OpCounters, kOpClassCount> by_op{};
    uint64_t tokens_processed = 0;   // rows run through the layers (uncached: the whole sequence)
    uint64_t tokens_recomputed = 0;  // of those, rows whose K/V a cache would already have held
    uint64_t kv_bytes_resident = 0;  // after the step (not summed: cumulative keeps the latest)
    uint64_t kv_bytes_peak = 0;      // most held during the step (cumulative keeps the maximum)
    uint64_t kv_bytes_full = 0;      // the exact f32 cache for the same tokens (cumulative keeps the latest)
    uint64_t kv_rows_evicted = 0;    // rows dropped, over layers and KV heads (summed)
    double wall_seconds = 0.0;       // the whole step, sampling included

    OpCounters& operator[](OpClass op) { return by_op[static_cast<int>(op)]; }
    const OpCounters& operator[](OpClass op) const { return by_op[static_cast<int>(op)]; }

    OpCounters total() const {
        OpCounters t;
        for (const auto& c : by_op)
            t += c;
        return t;
    }
    uint64_t flops() const { return total().flops; }
    uint64_t bytes_read() const {
        auto t = total();
        return t.weight_bytes + t.kv_read;
    }

    // Adds a step to a running total.
    void accumulate(const Counters& step) {
        for (int i = 0; i < kOpClassCount; ++i)
            by_op[i] += step.by_op[i];
        tokens_processed += step.tokens_processed;
        tokens_recomputed += step.tokens_recomputed;
        kv_bytes_resident = step.kv_bytes_resident;
        kv_bytes_full = step.kv_bytes_full;
        kv_rows_evicted += step.kv_rows_evicted;
        kv_bytes_peak = step.kv_bytes_peak > kv_bytes_peak ? step.kv_bytes_peak : kv_bytes_peak;
        wall_seconds += step.wall_seconds;
    }
};

}  // namespace kvscope
