// backend_ops.cpp — the op cases and their runner; see backend_ops.h.
#include "parity/backend_ops.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <utility>

#include "parity/naive_ops.h"

namespace kvscope::parity {

namespace {

using Floats = std::vector<float>;
using Outputs = std::vector<Floats>;

Floats random_floats(std::mt19937& rng, size_t n, float sd = 1.0f) {
    std::normal_distribution<float> normal(0.0f, sd);
    Floats v(n);
    for (auto& x : v)
        x = normal(rng);
    return v;
}

// One case's buffers on one backend: inputs uploaded, outputs read back after synchronize().
class DeviceScope {
  public:
    explicit DeviceScope(Backend& backend) : m_backend(backend), m_stream(backend.make_stream()) {}
    Stream& stream() { return *m_stream; }
    const Status& status() const { return m_status; }

    float* alloc(size_t n) {
        auto buffer = m_backend.allocate(n);
        if (!buffer) {
            if (m_status) m_status = buffer.status();
            return nullptr;
        }
        float* p = buffer.value()->data();
        m_buffers.push_back(std::move(buffer.value()));
        return p;
    }
    float* put(const Floats& host) {
        float* p = alloc(host.size());
        if (p) m_stream->upload(p, host.data(), host.size());
        return p;
    }
    Result<Outputs> get(const std::vector<std::pair<const float*, size_t>>& outputs) {
        Outputs out;
        for (const auto& [p, n] : outputs) {
            out.emplace_back(n);
            m_stream->download(out.back().data(), p, n);
        }
        m_stream->synchronize();
        if (Status st = m_stream->error(); !st) return st;
        return out;
    }

  private:
    Backend& m_backend;
    std::unique_ptr<Stream> m_stream;
    std::vector<std::unique_ptr<Buffer>> m_buffers;
    Status m_status;
};

struct OpCase {
    std::string name;
    double tolerance;  // on max|a − b| / max|reference|
    std::function<Outputs()> reference;
    std::function<Result<Outputs>(DeviceScope&)> run;
};

// Largest |a − b| over largest |b|; infinite when the shapes differ or a NaN appears in a but not b.
double relative_error(const Floats& a, const Floats& b) {
    if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
    double max_diff = 0.0, max_ref = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) != std::isnan(b[i])) return std::numeric_limits<double>::infinity();
        if (std::isnan(b[i])) continue;
        max_diff = std::max(max_diff, std::fabs(double(a[i]) - double(b[i])));
        max_ref = std::max(max_ref, std::fabs(double(b[i])));
    }
    return max_ref > 0.0 ? max_diff / max_ref : max_diff;
}

double worst_error(const Outputs& a, const Outputs& b) {
    if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
    double worst = 0.0;
    for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, relative_error(a[i], b[i]));
    return worst;
}

// ---- the cases --------------------------------------------------------------------------------------------

void matmul_cases(std::vector<OpCase>& cases) {
    struct Shape {
        int n, k, m;
        bool bias;
    };
    // decode (n = 1: the matrix-vector kernel, 16-byte and scalar loads, rows split over warps or not) and
    // prefill (cuBLAS); GPT-2 small's projections and a tall lm_head.
    const Shape shapes[] = {{1, 64, 48, false},   {1, 67, 33, true},     {1, 768, 2304, true},
                            {1, 3072, 768, true}, {1, 64, 50257, false}, {1, 176, 64, false},
                            {7, 96, 80, true},    {20, 64, 320, false},  {128, 256, 192, true},
                            {3, 1000, 5, true}};
    for (const Shape& s : shapes) {
        std::mt19937 rng{uint32_t(s.n * 7919 + s.k * 31 + s.m)};
        auto x = std::make_shared<Floats>(random_floats(rng, size_t(s.n) * s.k));
        auto w = std::make_shared<Floats>(random_floats(rng, size_t(s.m) * s.k, 0.05f));
        auto b = std::make_shared<Floats>(random_floats(rng, size_t(s.m)));
        OpCase c;
        c.name = "matmul n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
                 " m=" + std::to_string(s.m) + (s.bias ? " +bias" : "");
        c.tolerance = 2e-5;
        c.reference = [=] {
            return Outputs{naive::matmul(*x, s.n, s.k, *w, s.m, s.bias ? b.get() : nullptr)};
        };
        c.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dx = dev.put(*x);
            float* dw = dev.put(*w);
            float* db = dev.put(*b);
            float* dy = dev.alloc(size_t(s.n) * s.m);
            if (!dev.status()) return dev.status();
            dev.stream().matmul(dx, s.n, s.k, dw, s.m, s.bias ? db : nullptr, dy);
            return dev.get({{dy, size_t(s.n) * s.m}});
        };
        cases.push_back(std::move(c));
    }
    // The same product with the weight stored [in, out] (GPT-2's Conv1D used in place): decode and prefill.
    // Decode's blocked product (whole rows, 64 per block): GPT-2 small's two widths, rows not a multiple
    // of 64 (a short last block), and one block.
    const Shape in_out_shapes[] = {{1, 768, 2304, true}, {1, 3072, 768, true}, {1, 1000, 300, true},
                                   {1, 67, 33, true},    {7, 96, 80, true},    {20, 64, 320, false}};
    for (const Shape& s : in_out_shapes) {
        std::mt19937 rng{uint32_t(s.n * 7907 + s.k * 37 + s.m)};
        auto x = std::make_shared<Floats>(random_floats(rng, size_t(s.n) * s.k));
        auto w = std::make_shared<Floats>(random_floats(rng, size_t(s.m) * s.k, 0.05f));  // [m, k]
        auto b = std::make_shared<Floats>(random_floats(rng, size_t(s.m)));
        auto w_in_out = std::make_shared<Floats>(size_t(s.m) * s.k);  // [k, m]
        for (int o = 0; o < s.m; ++o)
            for (int i = 0; i < s.k; ++i)
                (*w_in_out)[size_t(i) * s.m + o] = (*w)[size_t(o) * s.k + i];
        OpCase c;
        c.name = "matmul_in_out n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
                 " m=" + std::to_string(s.m) + (s.bias ? " +bias" : "");
        c.tolerance = 2e-5;
        c.reference = [=] {
            return Outputs{naive::matmul(*x, s.n, s.k, *w, s.m, s.bias ? b.get() : nullptr)};
        };
        c.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dx = dev.put(*x);
            float* dw = dev.put(*w_in_out);
            float* db = dev.put(*b);
            float* dy = dev.alloc(size_t(s.n) * s.m);
            if (!dev.status()) return dev.status();
            dev.stream().matmul_in_out(dx, s.n, s.k, dw, s.m, s.bias ? db : nullptr, dy);
            return dev.get({{dy, size_t(s.n) * s.m}});
        };
        cases.push_back(std::move(c));
    }
}

void norm_cases(std::vector<OpCase>& cases) {
    const std::pair<int, int> shapes[] = {{1, 64}, {5, 768}, {3, 1000}, {2, 4096}};
    for (auto [n, d] : shapes) {
        std::mt19937 rng{uint32_t(n * 131 + d)};
        auto x = std::make_shared<Floats>(random_floats(rng, size_t(n) * d, 3.0f));
        auto w = std::make_shared<Floats>(random_floats(rng, size_t(d)));
        auto b = std::make_shared<Floats>(random_floats(rng, size_t(d)));
        for (auto& v : *x)
            v += 0.5f;  // a mean to take away
        const std::string shape = " n=" + std::to_string(n) + " d=" + std::to_string(d);
        const float eps = d == 64 ? 1e-6f : 1e-5f;

        OpCase rms;
        rms.name = "rmsnorm" + shape;
        rms.tolerance = 1e-5;
        rms.reference = [=] { return Outputs{naive::rmsnorm(*x, n, d, *w, eps)}; };
        rms.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dx = dev.put(*x);
            float* dw = dev.put(*w);
            float* dy = dev.alloc(x->size());
            if (!dev.status()) return dev.status();
            dev.stream().rmsnorm(dx, n, d, dw, eps, dy);
            return dev.get({{dy, x->size()}});
        };
        cases.push_back(std::move(rms));

        OpCase ln;
        ln.name = "layernorm" + shape;
        ln.tolerance = 1e-5;
        ln.reference = [=] { return Outputs{naive::layernorm(*x, n, d, *w, *b, eps)}; };
        ln.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dx = dev.put(*x);
            float* dw = dev.put(*w);
            float* db = dev.put(*b);
            float* dy = dev.alloc(x->size());
            if (!dev.status()) return dev.status();
            dev.stream().layernorm(dx, n, d, dw, db, eps, dy);
            return dev.get({{dy, x->size()}});
        };
        cases.push_back(std::move(ln));
    }
}

void rope_cases(std::vector<OpCase>& cases) {
    struct Shape {
        int n, n_heads, hd, pos0;
        float theta;
        RopeLayout layout;
        int col0, ld;  // the rotated heads start at column col0 of rows ld wide (k inside a qkv row)
    };
    const Shape shapes[] = {
        {1, 4, 16, 19, 1e4f, RopeLayout::rotate_half, 0, 128},       // tiny-llama-gqa q, decode
        {1, 2, 16, 19, 1e4f, RopeLayout::rotate_half, 64, 128},      // its k inside the qkv row
        {20, 4, 16, 0, 1e4f, RopeLayout::interleaved, 0, 64},        // llama2.c layout, prefill
        {3, 8, 8, 250, 1e6f, RopeLayout::rotate_half, 0, 96},        // qwen2's theta
        {2, 12, 64, 4000, 1e4f, RopeLayout::interleaved, 0, 768},    // far positions: float angle rounding
        {2, 12, 64, 4000, 1e4f, RopeLayout::rotate_half, 0, 768},    //
        {2, 2, 128, 8190, 5e5f, RopeLayout::rotate_half, 256, 512},  // llama-3-like head width
    };
    for (const Shape& s : shapes) {
        std::mt19937 rng{uint32_t(s.n * 17 + s.hd * 3 + s.pos0)};
        auto x = std::make_shared<Floats>(random_floats(rng, size_t(s.n) * s.ld));
        OpCase c;
        c.name = std::string("rope ") + rope_layout_name(s.layout) + " n=" + std::to_string(s.n) +
                 " heads=" + std::to_string(s.n_heads) + " hd=" + std::to_string(s.hd) +
                 " pos0=" + std::to_string(s.pos0) + " col0=" + std::to_string(s.col0);
        c.tolerance = 1e-5;
        c.reference = [=] {
            Floats y = *x;
            Floats part(y.begin() + s.col0, y.end());  // rows keep their stride ld
            naive::rope(part, s.n, s.ld, s.n_heads, s.hd, s.pos0, s.theta, s.layout);
            std::copy(part.begin(), part.end(), y.begin() + s.col0);
            return Outputs{y};
        };
        c.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dx = dev.put(*x);
            if (!dev.status()) return dev.status();
            dev.stream().rope(dx + s.col0, s.n, s.ld, s.n_heads, s.hd, s.pos0, s.theta, s.layout);
            return dev.get({{dx, x->size()}});
        };
        cases.push_back(std::move(c));
    }
}

void elementwise_cases(std::vector<OpCase>& cases) {
    for (size_t count : {size_t(1), size_t(3 * 176), size_t(100003)}) {
        std::mt19937 rng{uint32_t(count)};
        auto g = std::make_shared<Floats>(random_floats(rng, count, 4.0f));
        auto u = std::make_shared<Floats>(random_floats(rng, count));
        OpCase sw;
        sw.name = "swiglu count=" + std::to_string(count);
        sw.tolerance = 1e-6;
        sw.reference = [=] { return Outputs{naive::swiglu(*g, *u)}; };
        sw.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dg = dev.put(*g);
            float* du = dev.put(*u);
            if (!dev.status()) return dev.status();
            dev.stream().swiglu(dg, du, count, dg);  // in place, as the forward pass does
            return dev.get({{dg, count}});
        };
        cases.push_back(std::move(sw));

        OpCase ge;
        ge.name = "gelu_tanh count=" + std::to_string(count);
        ge.tolerance = 1e-6;
        ge.reference = [=] { return Outputs{naive::gelu_tanh(*g)}; };
        ge.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dg = dev.put(*g);
            if (!dev.status()) return dev.status();
            dev.stream().gelu_tanh(dg, count);
            return dev.get({{dg, count}});
        };
        cases.push_back(std::move(ge));

        OpCase ad;
        ad.name = "add count=" + std::to_string(count);
        ad.tolerance = 0.0;  // one float addition: exact everywhere
        ad.reference = [=] { return Outputs{naive::add(*g, *u)}; };
        ad.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dg = dev.put(*g);
            float* du = dev.put(*u);
            if (!dev.status()) return dev.status();
            dev.stream().add(dg, du, count);
            return dev.get({{dg, count}});
        };
        cases.push_back(std::move(ad));
    }
}

void copy_cases(std::vector<OpCase>& cases) {
    struct EmbedShape {
        int vocab, d;
        std::vector<int32_t> ids;
    };
    const EmbedShape embeds[] = {
        {320, 64, {0, 319, 5, 5, 17}}, {1000, 768, {999, 0, 123, 456, 789, 1, 2}}, {50, 3, {7}}};
    for (const EmbedShape& s : embeds) {
        std::mt19937 rng{uint32_t(s.vocab + s.d)};
        auto table = std::make_shared<Floats>(random_floats(rng, size_t(s.vocab) * s.d));
        auto ids = std::make_shared<std::vector<int32_t>>(s.ids);
        const int d = s.d;
        OpCase c;
        c.name = "embed vocab=" + std::to_string(s.vocab) + " d=" + std::to_string(s.d) +
                 " n=" + std::to_string(ids->size());
        c.tolerance = 0.0;
        c.reference = [=] { return Outputs{naive::embed(*ids, *table, d)}; };
        c.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dt = dev.put(*table);
            float* dy = dev.alloc(ids->size() * size_t(d));
            if (!dev.status()) return dev.status();
            // Twice, with other ids in between: the host ids may be reused as soon as the call returns.
            std::vector<int32_t> host = *ids;
            dev.stream().embed(host.data(), int(host.size()), dt, d, dy);
            for (auto& id : host)
                id = 0;
            dev.stream().embed(host.data(), int(host.size()), dt, d, dy);
            host = *ids;
            dev.stream().embed(host.data(), int(host.size()), dt, d, dy);
            for (auto& id : host)
                id = 1;
            return dev.get({{dy, ids->size() * size_t(d)}});
        };
        cases.push_back(std::move(c));
    }

    struct KvShape {
        int n, n_kv_heads, hd, capacity, pos0, col0, ld;
    };
    const KvShape kvs[] = {
        {1, 2, 16, 256, 19, 64, 128}, {20, 1, 16, 64, 0, 64, 96}, {3, 12, 64, 1024, 1000, 768, 2304}};
    for (const KvShape& s : kvs) {
        std::mt19937 rng{uint32_t(s.n + s.capacity + s.pos0)};
        auto rows = std::make_shared<Floats>(random_floats(rng, size_t(s.n) * s.ld));
        auto kc = std::make_shared<Floats>(random_floats(rng, size_t(s.n_kv_heads) * s.capacity * s.hd));
        auto vc = std::make_shared<Floats>(random_floats(rng, kc->size()));
        const int v_col = s.col0 + s.n_kv_heads * s.hd;
        OpCase c;
        c.name = "kv_write n=" + std::to_string(s.n) + " kv_heads=" + std::to_string(s.n_kv_heads) +
                 " hd=" + std::to_string(s.hd) + " pos0=" + std::to_string(s.pos0) +
                 " cap=" + std::to_string(s.capacity);
        c.tolerance = 0.0;
        c.reference = [=] {
            Floats k(rows->begin() + s.col0, rows->end()), v(rows->begin() + v_col, rows->end());
            Floats kk = *kc, vv = *vc;
            naive::kv_write(k, v, s.n, s.ld, s.n_kv_heads, s.hd, kk, vv, s.capacity, s.pos0);
            return Outputs{kk, vv};
        };
        c.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dr = dev.put(*rows);
            float* dk = dev.put(*kc);
            float* dv = dev.put(*vc);
            if (!dev.status()) return dev.status();
            dev.stream().kv_write(dr + s.col0, dr + v_col, s.n, s.ld, s.n_kv_heads, s.hd, dk, dv, s.capacity,
                                  s.pos0);
            return dev.get({{dk, kc->size()}, {dv, vc->size()}});
        };
        cases.push_back(std::move(c));
    }
}

void attention_cases(std::vector<OpCase>& cases) {
    struct Shape {
        const char* what;
        int n, n_heads, n_kv_heads, hd, capacity, pos0;
        int probs_row_begin;  // −1: no probabilities asked for
    };
    const Shape shapes[] = {
        {"decode MHA", 1, 4, 4, 16, 256, 19, 0},
        {"decode GQA", 1, 4, 2, 16, 256, 100, 0},
        {"decode MQA at capacity", 1, 4, 1, 16, 256, 255, 0},
        {"prefill GQA", 20, 4, 2, 16, 256, 0, 0},
        {"uncached step, last row's probs", 20, 4, 2, 16, 256, 0, 19},
        {"chunk after a cache", 5, 8, 2, 8, 64, 37, 2},
        {"decode GPT-2 small at 1000", 1, 12, 12, 64, 1024, 999, 0},
        {"decode GQA hd=128 at 4000, no probs", 1, 32, 8, 128, 4096, 4000, -1},
        {"wide heads hd=256", 2, 4, 2, 256, 512, 300, 0},
        {"hd=6 (scalar loads)", 3, 2, 1, 6, 16, 10, 1},
        {"prefill 300 rows, several tiles", 300, 4, 4, 32, 320, 0, 0},
        {"prefill 300 rows, no probs", 300, 4, 2, 32, 320, 0, -1},
    };
    for (const Shape& s : shapes) {
        const int q_dim = s.n_heads * s.hd, kv_dim = s.n_kv_heads * s.hd;
        const int ld = q_dim + 2 * kv_dim;  // q inside a fused qkv row
        const int s_total = s.pos0 + s.n;
        std::mt19937 rng{uint32_t(s.n * 1000 + s.pos0 + s.hd)};
        auto q = std::make_shared<Floats>(random_floats(rng, size_t(s.n) * ld));
        auto kc = std::make_shared<Floats>(random_floats(rng, size_t(s.n_kv_heads) * s.capacity * s.hd));
        auto vc = std::make_shared<Floats>(random_floats(rng, kc->size()));
        // Rows past the last key must never be read: make them NaN so that reading one shows.
        for (int h = 0; h < s.n_kv_heads; ++h)
            for (size_t j = size_t(h) * s.capacity * s.hd + size_t(s_total) * s.hd;
                 j < size_t(h + 1) * s.capacity * s.hd; ++j)
                (*kc)[j] = (*vc)[j] = std::numeric_limits<float>::quiet_NaN();
        const float scale = 1.0f / std::sqrt(float(s.hd));
        const bool want_probs = s.probs_row_begin >= 0;
        const int prb = want_probs ? s.probs_row_begin : 0;
        const size_t out_size = size_t(s.n) * q_dim;
        const size_t probs_size = want_probs ? size_t(s.n_heads) * (s.n - prb) * s_total : 0;
        OpCase c;
        c.name = std::string("attention ") + s.what + " n=" + std::to_string(s.n) +
                 " heads=" + std::to_string(s.n_heads) + "/" + std::to_string(s.n_kv_heads) +
                 " hd=" + std::to_string(s.hd) + " pos0=" + std::to_string(s.pos0);
        c.tolerance = 2e-5;
        c.reference = [=] {
            Floats out, probs;
            naive::attention(*q, s.n, ld, s.n_heads, s.n_kv_heads, s.hd, *kc, *vc, s.capacity, s.pos0, scale,
                             out, want_probs ? &probs : nullptr, prb);
            return want_probs ? Outputs{out, probs} : Outputs{out};
        };
        c.run = [=](DeviceScope& dev) -> Result<Outputs> {
            float* dq = dev.put(*q);
            float* dk = dev.put(*kc);
            float* dv = dev.put(*vc);
            float* dout = dev.alloc(out_size);
            float* dprobs = want_probs ? dev.alloc(probs_size) : nullptr;
            if (!dev.status()) return dev.status();
            dev.stream().attention(dq, s.n, ld, s.n_heads, s.n_kv_heads, s.hd, dk, dv, s.capacity, s.pos0,
                                   scale, dout, dprobs, prb);
            if (want_probs) return dev.get({{dout, out_size}, {dprobs, probs_size}});
            return dev.get({{dout, out_size}});
        };
        cases.push_back(std::move(c));
    }
}

std::vector<OpCase> all_cases() {
    std::vector<OpCase> cases;
    matmul_cases(cases);
    norm_cases(cases);
    rope_cases(cases);
    elementwise_cases(cases);
    copy_cases(cases);
    attention_cases(cases);
    return cases;
}

std::string short_name(const Backend& b) {
    return device_kind_name(b.kind());
}

}  // namespace

void run_backend_ops(const std::vector<std::shared_ptr<Backend>>& backends, const std::string& filter,
                     Tally& tally) {
    for (const OpCase& c : all_cases()) {
        if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
        const Outputs reference = c.reference();
        bool ok = true;
        std::string detail;
        std::vector<Outputs> results;
        for (const auto& backend : backends) {
            DeviceScope dev(*backend);
            auto out = c.run(dev);
            if (!out) {
                ok = false;
                detail += short_name(*backend) + ": " + out.message() + "  ";
                results.emplace_back();
                continue;
            }
            const double err = worst_error(out.value(), reference);
            ok = ok && err <= c.tolerance;
            detail += short_name(*backend) + " " + fmt(err) + "  ";
            results.push_back(std::move(out.value()));
        }
        // Two backends: also against each other (CUDA against the CPU, the pair a user compares).
        if (backends.size() == 2 && !results[0].empty() && !results[1].empty()) {
            const double err = worst_error(results[1], results[0]);
            ok = ok && err <= 2 * c.tolerance;
            detail += short_name(*backends[1]) + "~" + short_name(*backends[0]) + " " + fmt(err) + "  ";
        }
        tally.check(ok, c.name, detail + "(tol " + fmt(c.tolerance) + ")");
    }
}

void run_thread_count_check(const std::vector<std::shared_ptr<Backend>>& cpus, const std::string& filter,
                            Tally& tally) {
    for (const OpCase& c : all_cases()) {
        if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
        // Not a product of several rows (prefill): Eigen's GEMM blocks a band of columns by the band's
        // width, so the last bits of those differ between thread counts (still within the tolerance).
        if (c.name.rfind("matmul", 0) == 0 && c.name.find(" n=1 ") == std::string::npos) continue;
        std::vector<Outputs> results;
        std::string detail;
        for (const auto& cpu : cpus) {
            DeviceScope dev(*cpu);
            auto out = c.run(dev);
            if (!out) {
                detail += cpu->name() + ": " + out.message() + "  ";
                continue;
            }
            results.push_back(std::move(out.value()));
        }
        bool same = results.size() == cpus.size();
        for (size_t i = 1; same && i < results.size(); ++i)
            same = results[i] == results[0];  // bit for bit: the splits must not change a sum's order
        tally.check(same, c.name + " (1 to " + std::to_string(cpus.size()) + " threads)",
                    same ? "identical" : detail + "results differ between thread counts");
    }
}

}  // namespace kvscope::parity
