// lab.cpp — the exact run and the cache variants over the same segments, compared position by position.
#include "kvscope/lab.h"

#include <algorithm>
#include <cmath>

#include "kvscope/logit_compare.h"

namespace kvscope {

double LabWindow::perplexity() const {
    return tokens ? std::exp(nll_sum / double(tokens)) : NAN;
}

double LabResult::perplexity() const {
    return tokens ? std::exp(nll_sum / double(tokens)) : NAN;
}

namespace {

// Runs one session over a segment, teacher-forced; calls score(i, logits) for the logits after token i
// (scoring token i + 1). Stops after the last token or at `limit` positions.
template <typename Score>
Status run_segment(Session& s, std::span<const int32_t> seg, int limit, const std::atomic<bool>* cancel,
                   Score&& score) {
    s.reset();
    const int n = std::min<int>(int(seg.size()), limit);
    const int vocab = s.engine().config().vocab_size;
    auto last = [&] { return s.logits().subspan(s.logits().size() - size_t(vocab)); };
    auto r = s.prefill(seg.first(1));
    if (!r) return r.status();
    for (int i = 0; i + 1 < n; ++i) {
        score(i, last());
        if (cancel && cancel->load()) return Status::error("cancelled");
        auto d = s.decode(seg[size_t(i + 1)]);
        if (!d) return d.status().with_context("position " + std::to_string(i + 1));
    }
    return Status::ok();
}

void add_nll(LabResult& r, int pos, double nll) {
    r.nll_sum += nll;
    r.tokens += 1;
    for (auto& w : r.windows)
        if (pos >= w.begin && pos < w.end) {
            w.nll_sum += nll;
            w.tokens += 1;
        }
}

}  // namespace

Result<LabReport> run_lab(const std::shared_ptr<Engine>& engine, std::span<const int32_t> text,
                          const std::vector<CachePolicy>& variants, const LabOptions& o) {
    const ModelConfig& c = engine->config();
    LabReport report;
    report.context = c.context_length;
    report.segment_tokens = o.segment_tokens > 0 ? o.segment_tokens : c.context_length;
    report.text_tokens = int64_t(text.size());
    const int seg_len = report.segment_tokens;
    if (seg_len < 2)
        return Status::error("a lab segment needs at least 2 tokens, got " + std::to_string(seg_len));
    int segments = int(text.size() / size_t(seg_len));
    if (segments == 0)
        return Status::error("the text has " + std::to_string(text.size()) +
                             " tokens, fewer than one segment of " + std::to_string(seg_len));
    if (o.max_segments > 0) segments = std::min(segments, o.max_segments);
    report.segments = segments;
    const int window = o.window_tokens > 0 ? o.window_tokens : c.context_length;
    std::vector<LabWindow> windows;
    for (int b = 0; b < seg_len - 1; b += window)
        windows.push_back(LabWindow{b, std::min(seg_len - 1, b + window)});

    // The exact run holds the whole segment up to the model's context.
    const int exact_len = std::min(seg_len, c.context_length);
    SessionOptions eo;
    eo.mode = SessionMode::cached;
    eo.capacity = exact_len;
    eo.trace = TraceOptions::off();
    auto exact = Session::create(engine, eo);
    if (!exact) return exact.status().with_context("the exact run");
    std::vector<std::unique_ptr<Session>> sessions;
    for (const CachePolicy& p : variants) {
        SessionOptions so = eo;
        so.cache = p;
        // A bounded cache needs room for its budget plus the token being added; others hold the segment.
        so.capacity = p.evicts() ? std::min(c.context_length, std::max(p.held() + 1, 2)) : exact_len;
        if (!p.evicts() && seg_len > c.context_length)
            return Status::error("variant " + p.describe() +
                                 " keeps every token: it cannot run segments of " + std::to_string(seg_len) +
                                 " tokens past the model's context of " + std::to_string(c.context_length));
        auto s = Session::create(engine, so);
        if (!s) return s.status().with_context("variant " + p.describe());
        sessions.push_back(std::move(s.value()));
        LabResult r;
        r.spec = cache_variant_spec(p);
        r.label = p.describe();
        r.bytes_per_value = sessions.back()->cache()->bytes_per_value();
        r.windows = windows;
        report.variants.push_back(std::move(r));
    }
    report.exact.spec = "exact";
    report.exact.label = CachePolicy{}.describe();
    report.exact.windows = windows;

    const size_t V = size_t(c.vocab_size);
    std::vector<float> exact_logits(size_t(exact_len) * V);
    for (int sgi = 0; sgi < segments; ++sgi) {
        auto seg = text.subspan(size_t(sgi) * seg_len, size_t(seg_len));
        Session& es = *exact.value();
        KVSCOPE_TRY(run_segment(es, seg, exact_len, o.cancel, [&](int i, std::span<const float> l) {
                        std::copy(l.begin(), l.end(), exact_logits.begin() + ptrdiff_t(size_t(i) * V));
                        add_nll(report.exact, i, token_nll(l, seg[size_t(i + 1)]));
                    }).with_context("the exact run, segment " + std::to_string(sgi)));
        report.exact.kv_bytes_held = std::max(report.exact.kv_bytes_held, es.cache()->bytes_resident());
        report.exact.kv_bytes_exact = report.exact.kv_bytes_held;
        for (size_t vi = 0; vi < sessions.size(); ++vi) {
            LabResult& r = report.variants[vi];
            KVSCOPE_TRY(
                run_segment(*sessions[vi], seg, seg_len, o.cancel, [&](int i, std::span<const float> l) {
                    add_nll(r, i, token_nll(l, seg[size_t(i + 1)]));
                    if (i + 1 < exact_len) {
                        const auto cmp =
                            compare_logits(std::span<const float>(exact_logits.data() + size_t(i) * V, V), l);
                        r.compared += 1;
                        r.kl_sum += cmp.kl;
                        r.top1_agree += cmp.top1_agrees() ? 1 : 0;
                        r.max_abs_logit_diff = std::max(r.max_abs_logit_diff, cmp.max_abs_logit_diff);
                    }
                }).with_context(r.label + ", segment " + std::to_string(sgi)));
            const Session& vs = *sessions[vi];
            r.kv_bytes_held = std::max(r.kv_bytes_held, vs.cache()->bytes_resident());
            r.kv_bytes_exact = std::max(r.kv_bytes_exact, c.kv_bytes_per_token(4) * uint64_t(vs.position()));
        }
        if (o.progress) o.progress(sgi + 1, segments);
    }
    return report;
}

}  // namespace kvscope
