#include "kvscope/recompute_check.h"

#include <cmath>
#include <string>

namespace kvscope {

float RowsDifference::max_abs(int layer, int* worst_row, int* worst_layer) const {
    float worst = 0.0f;
    int row = -1, where = -1;
    const int first = layer < 0 ? 0 : layer, last = layer < 0 ? n_layers : layer + 1;
    for (int l = first; l < last; ++l)
        for (int r = 0; r < n_rows; ++r)
            if (row < 0 || at(l, r) > worst) {
                worst = at(l, r);
                row = r;
                where = l;
            }
    if (worst_row) *worst_row = row;
    if (worst_layer) *worst_layer = where;
    return worst;
}

Result<RowsDifference> compare_kv_rows(const Session& cached, const Session& uncached, int n_rows) {
    const ModelConfig& a = cached.engine().config();
    const ModelConfig& b = uncached.engine().config();
    if (a.n_layers != b.n_layers || a.n_kv_heads != b.n_kv_heads || a.head_dim != b.head_dim)
        return Status::error("compare_kv_rows: the sessions run models of different shapes");
    if (n_rows < 0 || n_rows > cached.position() || n_rows > uncached.position())
        return Status::error("compare_kv_rows: " + std::to_string(n_rows) +
                             " rows asked, the sessions hold " + std::to_string(cached.position()) + " and " +
                             std::to_string(uncached.position()));
    RowsDifference out;
    out.n_layers = a.n_layers;
    out.n_rows = n_rows;
    out.row_max.assign(size_t(a.n_layers) * size_t(n_rows), 0.0f);
    if (n_rows == 0) return out;
    const int hd = a.head_dim;
    std::vector<float> ra(size_t(n_rows) * hd), rb(ra.size());  // one head's rows: [n_rows][head_dim]
    for (int l = 0; l < a.n_layers; ++l)
        for (int h = 0; h < a.n_kv_heads; ++h)
            for (bool key : {true, false}) {
                cached.read_cache_rows(l, h, key, 0, n_rows, ra.data());
                uncached.read_cache_rows(l, h, key, 0, n_rows, rb.data());
                float* row_max = out.row_max.data() + size_t(l) * size_t(n_rows);
                for (int r = 0; r < n_rows; ++r)
                    for (int d = 0; d < hd; ++d) {
                        const size_t i = size_t(r) * hd + d;
                        const float diff = std::fabs(ra[i] - rb[i]);
                        if (!(diff <= row_max[r])) row_max[r] = diff;  // a NaN must show, not vanish
                    }
            }
    return out;
}

}  // namespace kvscope
