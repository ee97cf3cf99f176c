// recompute_check.h — the proof that a run without a cache recomputes the very rows a cache keeps.
//
// After one lockstep step of two sessions on the same tokens (one cached, one uncached), compare_kv_rows
// reads the K and V rows [0, n_rows) each session's last step left (the cached run's cache; the uncached
// run's scratch, which stays readable until its next step) and returns, for every layer and row, the
// largest |cached − uncached| over K and V of every KV head and dimension. Rows before the step's first
// new position are the ones the uncached run rebuilt although nothing about them changed: their
// difference is float rounding (about 1e-7), never a real change.
//
// It reads the sessions only; it never changes them. Cost: 2 × layers × kv_heads × head_dim × n_rows
// floats read from each session.
#pragma once

#include <vector>

#include "kvscope/session.h"
#include "kvscope/status.h"

namespace kvscope {

struct RowsDifference {
    int n_layers = 0;
    int n_rows = 0;
    std::vector<float> row_max;  // [layer][row]: largest |Δ| of the row's K and V values

    float at(int layer, int row) const { return row_max[size_t(layer) * size_t(n_rows) + size_t(row)]; }
    // The largest |Δ| of a layer (or of every layer when layer < 0), and the row (and layer) it is at.
    float max_abs(int layer = -1, int* worst_row = nullptr, int* worst_layer = nullptr) const;
};

// Errors when the sessions do not hold the same model shape or fewer than n_rows positions.
Result<RowsDifference> compare_kv_rows(const Session& cached, const Session& uncached, int n_rows);

}  // namespace kvscope
