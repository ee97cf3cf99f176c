// cache_policy.h — what a KV cache keeps and how it stores it: the cache variants of the techniques lab.
//
// A CachePolicy is a value: the element type (kv_storage.h) and an eviction rule with its parameters.
// The default policy (f32, keep everything) is the exact cache, bit for bit. A Session with another policy
// really runs the model over what the policy kept: the attention reads the dequantized values, and rows
// an eviction rule dropped are gone from every later step.
//
// Eviction rules (after each step the cache holds at most budget() rows per layer and KV head; the next
// token attends those rows plus its own):
//   window W          the W most recent tokens
//   sinks S + W       StreamingLLM (Xiao et al. 2023): the first S tokens ("attention sinks") and the W
//                     most recent
//   heavy hitters B   H2O (Zhang et al. 2023): the R most recent tokens plus the B − R others with the
//                     largest attention accumulated since they entered (summed over the query heads that
//                     read the KV head, over every query row so far); per layer and KV head
//   TOVA B            Oren et al. 2024: the B tokens the newest query attends to most (averaged over the
//                     layer's query heads); per layer
// Positions: with reindex (the default for window and sinks, as StreamingLLM does) RoPE rotates a cached
// key by its row in the cache, not its position in the text, so a bounded cache can run past the model's
// trained context. Without it keys keep their original positions (H2O and TOVA as published).
//
// The EvictionPolicy objects are what a Session consults after each step: given the row map and, for the
// attention-scored rules, this step's attention over the cache rows, they say which rows stay.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kvscope/kv_storage.h"
#include "kvscope/status.h"
#include "kvscope/trace.h"

namespace kvscope {

enum class EvictionKind : uint8_t { none, window, sinks_window, heavy_hitters, tova };
const char* eviction_kind_name(EvictionKind kind);  // "none", "window", "sinks", "h2o", "tova"

struct CachePolicy {
    KVStorage storage;
    EvictionKind eviction = EvictionKind::none;
    int window = 0;  // W: most recent tokens kept (window, sinks; H2O's recent part)
    int sinks = 0;   // S: first tokens kept (sinks)
    int budget = 0;  // B: rows held after a step (H2O, TOVA)
    bool reindex = false;

    bool exact() const { return !storage.lossy() && eviction == EvictionKind::none; }
    bool evicts() const { return eviction != EvictionKind::none; }
    // Rows held after a step (per layer and KV head); 0: unbounded.
    int held() const;
    Status validate() const;
    std::string describe() const;  // "exact (f32)", "int4 (groups of 32)", "sinks 4 + window 60"
};

// Which rows of every (layer, KV head) stay: rows[(layer · n_kv_heads + head) · rows_after + i],
// ascending within each (layer, head); every head keeps the same number of rows.
struct RowsToKeep {
    int rows_after = 0;
    std::vector<int32_t> rows;
};

// The row map of a cache: which position each row holds, per layer and KV head.
struct RowMapView {
    int n_layers = 0, n_kv_heads = 0, rows = 0, stride = 0;  // stride: entries between two heads' maps
    const int32_t* positions = nullptr;
    int position(int layer, int head, int row) const {
        return positions[(size_t(layer) * n_kv_heads + head) * stride + row];
    }
};

class EvictionPolicy {
  public:
    virtual ~EvictionPolicy() = default;
    // Whether decide() needs this step's attention rows (over cache rows: keys are rows, not positions).
    virtual bool needs_attention() const { return false; }
    // After a step: which rows stay, or nothing when every row stays. `attention` has one entry per layer
    // ([n_heads][n_rows][n_keys], n_keys = map.rows) when needs_attention(), else it is empty.
    virtual std::optional<RowsToKeep> decide(const RowMapView& map, std::span<const LayerAttention> attention,
                                             int n_heads) = 0;
    virtual void reset() = 0;
};

std::unique_ptr<EvictionPolicy> make_eviction_policy(const CachePolicy& policy);

// ---- the list of cache variants: the app's menu, export and kvscope-cli iterate this one table ----------
struct CacheVariantParam {
    const char* key;  // "W", "S", "B", "R", "group"
    const char* meaning;
    int default_value;
};

struct CacheVariant {
    const char* id;     // CLI name: "exact", "f16", "bf16", "int8", "int4", "window", "sinks", "h2o", "tova"
    const char* label;  // menu label: "KV in f16", "attention sinks S + window W"
    const char* summary;
    std::vector<CacheVariantParam> params;
};

const std::vector<CacheVariant>& cache_variants();
const CacheVariant* find_cache_variant(const std::string& id);
// "int4", "window:W=64", "sinks:S=4,W=60", "h2o:B=64,R=32", "tova:B=64", "int8:group=64",
// "window:W=64,reindex=0"
Result<CachePolicy> parse_cache_variant(const std::string& spec);
// The spec that parses back to `policy` ("sinks:S=4,W=60").
std::string cache_variant_spec(const CachePolicy& policy);
// The variant `id` with parameters (missing ones take their defaults).
Result<CachePolicy> make_cache_variant(const std::string& id,
                                       const std::vector<std::pair<std::string, int>>& params);
// "budget" sets the held rows of an eviction variant (window W=B; sinks W=B−S; h2o/tova B=B, R=B/2);
// "bits" picks the element type (32, 16, 8, 4; "bf16" as 16 is not expressible: use the variant).
Result<CachePolicy> with_sweep_value(CachePolicy policy, const std::string& key, int value);

}  // namespace kvscope
