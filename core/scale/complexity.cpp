// complexity.cpp — slopes on log-log axes and the measured attention crossover (kvscope/complexity.h).
#include "kvscope/complexity.h"

#include <cmath>
#include <cstddef>

namespace kvscope {

double loglog_slope(std::span<const double> x, std::span<const double> y) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    size_t n = 0;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (!(x[i] > 0) || !(y[i] > 0)) continue;
        const double lx = std::log(x[i]), ly = std::log(y[i]);
        sx += lx;
        sy += ly;
        sxx += lx * lx;
        sxy += lx * ly;
        ++n;
    }
    if (n < 2) return 0;
    const double den = double(n) * sxx - sx * sx;
    return std::abs(den) < 1e-12 ? 0 : (double(n) * sxy - sx * sy) / den;
}

double measured_attention_crossover(const Counters& step, double keys) {
    const double attention = double(flops_in(step, FlopGroup::attention));
    if (!(attention > 0) || !(keys > 0)) return 0;
    return double(flops_in(step, FlopGroup::weights)) / (attention / keys);
}

}  // namespace kvscope
