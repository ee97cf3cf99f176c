// naive_ops.cpp — see naive_ops.h.
#include "parity/naive_ops.h"

#include <algorithm>
#include <cmath>

namespace kvscope::naive {

Floats matmul(const Floats& x, int n, int k, const Floats& w, int m, const Floats* bias) {
    Floats y(size_t(n) * m);
    for (int i = 0; i < n; ++i)
        for (int r = 0; r < m; ++r) {
            double s = bias ? (*bias)[r] : 0.0;
            for (int j = 0; j < k; ++j)
                s += double(x[size_t(i) * k + j]) * w[size_t(r) * k + j];
            y[size_t(i) * m + r] = float(s);
        }
    return y;
}

Floats rmsnorm(const Floats& x, int n, int d, const Floats& w, float eps) {
    Floats y(x.size());
    for (int i = 0; i < n; ++i) {
        double ss = 0.0;
        for (int j = 0; j < d; ++j)
            ss += double(x[size_t(i) * d + j]) * x[size_t(i) * d + j];
        const double inv = 1.0 / std::sqrt(ss / d + eps);
        for (int j = 0; j < d; ++j)
            y[size_t(i) * d + j] = float(x[size_t(i) * d + j] * inv * w[j]);
    }
    return y;
}

Floats layernorm(const Floats& x, int n, int d, const Floats& w, const Floats& b, float eps) {
    Floats y(x.size());
    for (int i = 0; i < n; ++i) {
        double mean = 0.0;
        for (int j = 0; j < d; ++j)
            mean += x[size_t(i) * d + j];
        mean /= d;
        double var = 0.0;
        for (int j = 0; j < d; ++j)
            var += (x[size_t(i) * d + j] - mean) * (x[size_t(i) * d + j] - mean);
        var /= d;
        const double inv = 1.0 / std::sqrt(var + eps);
        for (int j = 0; j < d; ++j)
            y[size_t(i) * d + j] = float((x[size_t(i) * d + j] - mean) * inv * w[j] + b[j]);
    }
    return y;
}

void rope(Floats& x, int n, int ld, int n_heads, int hd, int pos0, float theta, RopeLayout layout) {
    const int half = hd / 2;
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < n_heads; ++h)
            for (int j = 0; j < half; ++j) {
                // torch: inv_freq = 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all float32.
                const float exponent = float(2 * j) / float(hd);
                const float inv_freq = 1.0f / std::pow(theta, exponent);
                const float angle = float(pos0 + i) * inv_freq;
                const double c = std::cos(double(angle)), s = std::sin(double(angle));
                float* v = x.data() + size_t(i) * ld + size_t(h) * hd;
                const int a = layout == RopeLayout::interleaved ? 2 * j : j;
                const int b = layout == RopeLayout::interleaved ? 2 * j + 1 : j + half;
                const double x0 = v[a], x1 = v[b];
                v[a] = float(x0 * c - x1 * s);
                v[b] = float(x0 * s + x1 * c);
            }
}

Floats swiglu(const Floats& gate, const Floats& up) {
    Floats out(gate.size());
    for (size_t i = 0; i < gate.size(); ++i) {
        const double g = gate[i];
        out[i] = float(g / (1.0 + std::exp(-g)) * up[i]);
    }
    return out;
}

Floats gelu_tanh(const Floats& x) {
    Floats y(x.size());
    const double c = std::sqrt(2.0 / M_PI);
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        y[i] = float(0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v))));
    }
    return y;
}

Floats add(const Floats& y, const Floats& x) {
    Floats out(y.size());
    for (size_t i = 0; i < y.size(); ++i)
        out[i] = y[i] + x[i];
    return out;
}

Floats embed(const std::vector<int32_t>& ids, const Floats& table, int d) {
    Floats y(ids.size() * size_t(d));
    for (size_t i = 0; i < ids.size(); ++i)
        for (int j = 0; j < d; ++j)
            y[i * d + j] = table[size_t(ids[i]) * d + j];
    return y;
}

void kv_write(const Floats& k, const Floats& v, int n, int ld, int n_kv_heads, int hd, Floats& k_cache,
              Floats& v_cache, int capacity, int pos0) {
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < n_kv_heads; ++h)
            for (int j = 0; j < hd; ++j) {
                const size_t dst = (size_t(h) * capacity + pos0 + i) * hd + j;
                k_cache[dst] = k[size_t(i) * ld + size_t(h) * hd + j];
                v_cache[dst] = v[size_t(i) * ld + size_t(h) * hd + j];
            }
}

void attention(const Floats& q, int n, int ld, int n_heads, int n_kv_heads, int hd, const Floats& k_cache,
               const Floats& v_cache, int capacity, int pos0, float scale, Floats& out, Floats* probs,
               int probs_row_begin) {
    const int group = n_heads / n_kv_heads;
    const int s_total = pos0 + n;
    out.assign(size_t(n) * n_heads * hd, 0.0f);
    if (probs) probs->assign(size_t(n_heads) * (n - probs_row_begin) * s_total, 0.0f);
    std::vector<double> p(static_cast<size_t>(s_total));
    for (int h = 0; h < n_heads; ++h) {
        const size_t kv = size_t(h / group) * capacity * hd;
        for (int i = 0; i < n; ++i) {
            const int s = pos0 + i + 1;
            double mx = -INFINITY;
            for (int t = 0; t < s; ++t) {
                double dot = 0.0;
                for (int d = 0; d < hd; ++d)
                    dot += double(q[size_t(i) * ld + size_t(h) * hd + d]) * k_cache[kv + size_t(t) * hd + d];
                p[t] = dot * scale;
                mx = std::max(mx, p[t]);
            }
            double sum = 0.0;
            for (int t = 0; t < s; ++t)
                sum += (p[t] = std::exp(p[t] - mx));
            for (int t = 0; t < s; ++t)
                p[t] /= sum;
            for (int d = 0; d < hd; ++d) {
                double o = 0.0;
                for (int t = 0; t < s; ++t)
                    o += p[t] * v_cache[kv + size_t(t) * hd + d];
                out[size_t(i) * n_heads * hd + size_t(h) * hd + d] = float(o);
            }
            if (probs && i >= probs_row_begin)
                for (int t = 0; t < s; ++t)
                    (*probs)[(size_t(h) * (n - probs_row_begin) + (i - probs_row_begin)) * s_total + t] =
                        float(p[t]);
        }
    }
}

}  // namespace kvscope::naive
