#include "lessons/lesson_values.h"

#include <cmath>
#include <functional>

#include "conversations/conversations_worker.h"
#include "format.h"
#include "kvscope/scale.h"
#include "scale_settings.h"
#include "token_text.h"
#include "trace_store.h"

namespace kvscope::app {

namespace {

// How a value is written.
enum class Unit { count, flops, bytes, seconds, ratio, intensity, percent, tiny, token };

// What a definition reads: the store, and both runs' traces at the selected step (null when that run has
// no such step) and the cached run's prefill.
struct Ctx {
    const TraceStore& store;
    const StepTrace* cached = nullptr;
    const StepTrace* uncached = nullptr;
    const StepTrace* prefill = nullptr;
    int cachedStep = -1, uncachedStep = -1;
    const ConversationsResults* conversations = nullptr;
};

struct Read {
    double number = NAN;
    QString source;
    int32_t token = -1;  // Unit::token
};

using Getter = std::function<Result<Read>(const Ctx&)>;
using Field = std::function<double(const StepTrace&)>;

struct Def {
    QString name;
    QByteArray description;
    Unit unit;
    Getter get;
};

Status unavailable(const char* why) {
    return Status::error(why);
}

QString where(const char* run, int step) {
    return step == 0 ? QStringLiteral("%1 run, step 0 (the prefill)").arg(QLatin1String(run))
                     : QStringLiteral("%1 run, step %2").arg(QLatin1String(run)).arg(step);
}

// A field of one run's trace at the selected step; decodeOnly: not available at the prefill.
Getter runField(bool cached, const char* field, Field f, bool decodeOnly = false) {
    return [=](const Ctx& x) -> Result<Read> {
        const StepTrace* t = cached ? x.cached : x.uncached;
        if (!t) return unavailable("nothing has run yet: press Step");
        if (decodeOnly && t->phase != Phase::decode)
            return unavailable("the selected step is the prefill: press Step for a decode step");
        return Read{f(*t), where(cached ? "cached" : "uncached", cached ? x.cachedStep : x.uncachedStep) +
                               QStringLiteral(": ") + QLatin1String(field)};
    };
}
// A field of the right pane's run at the selected step when it is a cache variant (a cached run over a
// cache that stores fewer bits or drops tokens); needsQuality: only once compared with the exact run.
Getter variantField(const char* field, Field f, bool needsQuality = false) {
    return [=](const Ctx& x) -> Result<Read> {
        const StepTrace* t = x.uncached;
        if (!t) return unavailable("nothing has run yet: press Step");
        if (t->mode != SessionMode::cached || t->cache.policy == "exact")
            return unavailable("the right pane runs without a cache: switch it to a cache variant");
        if (needsQuality && t->quality.steps < 1)
            return unavailable("not compared with the exact run yet: press Step");
        return Read{f(*t), where("variant", x.uncachedStep) + QStringLiteral(": ") + QLatin1String(field)};
    };
}
// A number of the Conversations view's last finished run (both layouts after the same steps).
Getter snapshotField(const char* field, std::function<double(const ConversationsSnapshot&)> f) {
    return [=](const Ctx& x) -> Result<Read> {
        if (!x.conversations || !x.conversations->snapshot)
            return unavailable("the conversations have not run yet: press Run in the Conversations view");
        return Read{f(*x.conversations->snapshot),
                    QStringLiteral("Conversations view, last run: ") + QLatin1String(field)};
    };
}
// A number of the Conversations view's last chat second turn.
Getter turnField(const char* field, std::function<double(const SecondTurn&)> f) {
    return [=](const Ctx& x) -> Result<Read> {
        if (!x.conversations || !x.conversations->turn)
            return unavailable(
                "the second turn has not been measured yet: press Turn 2 in the Conversations view");
        return Read{f(*x.conversations->turn),
                    QStringLiteral("Conversations view, turn 2: ") + QLatin1String(field)};
    };
}
Getter prefillField(const char* field, Field f) {
    return [=](const Ctx& x) -> Result<Read> {
        if (!x.prefill) return unavailable("nothing has run yet: press Step");
        return Read{f(*x.prefill), where("cached", 0) + QStringLiteral(": ") + QLatin1String(field)};
    };
}
// a ÷ b: a ratio of two measured values.
Getter quotient(Getter a, Getter b) {
    return [=](const Ctx& x) -> Result<Read> {
        Result<Read> ra = a(x);
        if (!ra) return ra.status();
        Result<Read> rb = b(x);
        if (!rb) return rb.status();
        if (!(rb->number > 0)) return unavailable("nothing to divide by yet");
        return Read{ra->number / rb->number, QStringLiteral("(%1) ÷ (%2)").arg(ra->source, rb->source)};
    };
}

// A published model's shape from the reference catalog (assets/reference/model-configs.json, as the Scale
// up view reads it) and what its KV cache or weights cost in bf16, by the same formulas as that view.
enum class ScaleWhat { kvPerToken, kvPerConversation, weights };
Getter scaleValue(const char* model, ScaleWhat what) {
    return [=](const Ctx&) -> Result<Read> {
        QString error;
        const std::shared_ptr<const ReferenceCatalog> catalog = ScaleSettings::catalog(&error);
        if (!catalog) return Status::error("the reference catalog did not load: " + error.toStdString());
        for (const ModelShape& m : catalog->models) {
            if (m.name != model) continue;
            const QString source =
                QStringLiteral("%1 in %2: ")
                    .arg(QLatin1String(model), QString::fromStdString(catalog->source_path));
            switch (what) {
                case ScaleWhat::kvPerToken:
                    return Read{kv_bytes_per_token(m, Precision::bf16),
                                source + QString::fromStdString(kv_formula_text(m, Precision::bf16))};
                case ScaleWhat::kvPerConversation:
                    return Read{
                        kv_bytes_per_conversation(m, m.context, Precision::bf16),
                        source +
                            QStringLiteral("KV bytes per token (bf16) × its context of %1").arg(m.context)};
                case ScaleWhat::weights:
                    return Read{weight_bytes(m, Precision::bf16),
                                source + QStringLiteral("parameters × 2 B (bf16)")};
            }
        }
        return Status::error(std::string("the reference catalog has no model named ") + model);
    };
}

double flops(const StepTrace& t) {
    return double(t.counters.flops());
}
double wall(const StepTrace& t) {
    return t.counters.wall_seconds;
}
double intensity(const StepTrace& t) {
    const double bytes = double(t.counters.bytes_read());
    return bytes > 0 ? double(t.counters.flops()) / bytes : NAN;
}
double fedTokens(const StepTrace& t) {
    return double(t.pos_end - t.pos_begin);
}
// KV bytes one token adds to the cache, as the step wrote them: K and V bytes written ÷ tokens fed.
double bytesPerToken(const StepTrace& t) {
    return double(t.counters.total().kv_written) / fedTokens(t);
}
// Bytes of one stored number: what a token added ÷ the numbers in its rows (2 · layers · KV heads · dims).
double bytesPerValue(const StepTrace& t) {
    return bytesPerToken(t) / (2.0 * t.n_layers * t.n_kv_heads * t.head_dim);
}

const std::vector<Def>& defs() {
    static const std::vector<Def> table = [] {
        std::vector<Def> d;
        auto add = [&](const QString& name, const char* description, Unit unit, Getter get) {
            d.push_back({name, QByteArray(description), unit, std::move(get)});
            return d.back().get;
        };
        auto cachedField = [](const char* f, Field fn, bool decodeOnly = false) {
            return runField(true, f, std::move(fn), decodeOnly);
        };

        // --- the model's shape, as the traces carry it
        add("model.layers", "layers of the model", Unit::count,
            cachedField("n_layers", [](const StepTrace& t) { return t.n_layers; }));
        add("model.heads", "query heads per layer", Unit::count,
            cachedField("n_heads", [](const StepTrace& t) { return t.n_heads; }));
        add("model.kv_heads", "KV heads per layer", Unit::count,
            cachedField("n_kv_heads", [](const StepTrace& t) { return t.n_kv_heads; }));
        add("model.head_dim", "numbers in one head's q, k or v vector", Unit::count,
            cachedField("head_dim", [](const StepTrace& t) { return t.head_dim; }));
        add("model.group", "query heads that share one KV head", Unit::count,
            cachedField("n_heads / n_kv_heads", [](const StepTrace& t) { return t.n_heads / t.n_kv_heads; }));
        add("model.context", "the most tokens a run can hold", Unit::count,
            cachedField("capacity", [](const StepTrace& t) { return t.capacity; }));
        add("model.vocab", "tokens the model knows", Unit::count,
            cachedField("vocab_size", [](const StepTrace& t) { return t.vocab_size; }));

        // --- the sequence
        add("prompt.tokens", "tokens in the prompt", Unit::count,
            prefillField("pos_end", [](const StepTrace& t) { return t.pos_end; }));
        add("step.index", "the selected step (0: the prefill)", Unit::count,
            [](const Ctx& x) -> Result<Read> {
                if (!x.cached) return unavailable("nothing has run yet: press Step");
                return Read{double(x.cachedStep), where("cached", x.cachedStep) + QStringLiteral(": step")};
            });
        add("step.length", "tokens in the sequence after the selected step", Unit::count,
            cachedField("pos_end", [](const StepTrace& t) { return t.pos_end; }));
        add("step.position", "position of the token fed at the selected decode step", Unit::count,
            cachedField(
                "pos_begin", [](const StepTrace& t) { return t.pos_begin; }, true));
        add("step.fed", "the token fed at the selected decode step", Unit::token,
            [](const Ctx& x) -> Result<Read> {
                if (!x.cached || x.cached->phase != Phase::decode || x.cached->input_tokens.empty())
                    return unavailable("the selected step is not a decode step: press Step");
                Read r{NAN, where("cached", x.cachedStep) + QStringLiteral(": input_tokens[0]")};
                r.token = x.cached->input_tokens.front();
                return r;
            });
        add("step.next", "the token the cached run chose at the selected step", Unit::token,
            [](const Ctx& x) -> Result<Read> {
                if (!x.cached) return unavailable("nothing has run yet: press Step");
                Read r{NAN, where("cached", x.cachedStep) + QStringLiteral(": chosen")};
                r.token = x.cached->chosen;
                return r;
            });
        add("step.next_prob", "the probability the model gave that token", Unit::percent,
            cachedField("chosen_prob", [](const StepTrace& t) { return double(t.chosen_prob); }));
        add("step.logit_diff", "largest difference between the two runs' logits at the selected step",
            Unit::tiny, [](const Ctx& x) -> Result<Read> {
                if (!x.cached) return unavailable("nothing has run yet: press Step");
                const double diff = x.store.step(Side::cached, x.cachedStep).maxLogitDiff;
                if (!std::isfinite(diff)) return unavailable("no logit difference measured (lockstep only)");
                return Read{diff, where("cached", x.cachedStep) + QStringLiteral(": maxLogitDiff")};
            });

        // --- each run at the selected step
        Getter flopsStep[2], flopsTotal[2], timeStep[2], timeTotal[2];
        for (int run = 0; run < 2; ++run) {
            const bool cached = run == 0;
            const QString p = QLatin1String(cached ? "cached." : "uncached.");
            auto field = [cached](const char* f, Field fn, bool decodeOnly = false) {
                return runField(cached, f, std::move(fn), decodeOnly);
            };
            flopsStep[run] = add(p + "flops_step", "FLOPs of the selected step", Unit::flops,
                                 field("counters.flops()", flops));
            flopsTotal[run] = add(
                p + "flops_total", "FLOPs of the run up to the selected step", Unit::flops,
                field("cumulative.flops()", [](const StepTrace& t) { return double(t.cumulative.flops()); }));
            add(p + "attention_flops_step", "attention FLOPs (scores, softmax, weighted sum) of the step",
                Unit::flops, field("counters[attention].flops", [](const StepTrace& t) {
                    return double(t.counters[OpClass::attention].flops);
                }));
            timeStep[run] = add(p + "time_step", "wall time of the selected step", Unit::seconds,
                                field("counters.wall_seconds", wall));
            timeTotal[run] = add(p + "time_total", "wall time of the run up to the selected step",
                                 Unit::seconds, field("cumulative.wall_seconds", [](const StepTrace& t) {
                                     return t.cumulative.wall_seconds;
                                 }));
            add(p + "tokens_step", "tokens run through the layers at the selected step", Unit::count,
                field("counters.tokens_processed",
                      [](const StepTrace& t) { return double(t.counters.tokens_processed); }));
            add(p + "recomputed_step", "tokens whose K and V were computed again at the selected step",
                Unit::count, field("counters.tokens_recomputed", [](const StepTrace& t) {
                    return double(t.counters.tokens_recomputed);
                }));
            add(p + "recomputed_total", "tokens recomputed up to the selected step", Unit::count,
                field("cumulative.tokens_recomputed",
                      [](const StepTrace& t) { return double(t.cumulative.tokens_recomputed); }));
            add(p + "kv_bytes", "KV bytes held after the selected step", Unit::bytes,
                field("counters.kv_bytes_resident",
                      [](const StepTrace& t) { return double(t.counters.kv_bytes_resident); }));
            add(p + "kv_peak", "most KV bytes held during the selected step", Unit::bytes,
                field("counters.kv_bytes_peak",
                      [](const StepTrace& t) { return double(t.counters.kv_bytes_peak); }));
            add(p + "kv_written_step", "K and V bytes written at the selected step", Unit::bytes,
                field("counters.kv_written",
                      [](const StepTrace& t) { return double(t.counters.total().kv_written); }));
            add(p + "kv_read_step", "K and V bytes read at the selected step", Unit::bytes,
                field("counters.kv_read",
                      [](const StepTrace& t) { return double(t.counters.total().kv_read); }));
            add(p + "weights_read_step", "weight bytes read at the selected step", Unit::bytes,
                field("counters.weight_bytes",
                      [](const StepTrace& t) { return double(t.counters.total().weight_bytes); }));
            add(p + "bytes_read_step", "bytes read (weights and KV) at the selected step", Unit::bytes,
                field("counters.bytes_read()",
                      [](const StepTrace& t) { return double(t.counters.bytes_read()); }));
            add(p + "intensity_step", "FLOPs per byte read at the selected step (arithmetic intensity)",
                Unit::intensity, field("counters.flops() / counters.bytes_read()", intensity));
        }
        add("ratio.flops_step", "uncached FLOPs ÷ cached FLOPs at the selected step", Unit::ratio,
            quotient(flopsStep[1], flopsStep[0]));
        add("ratio.flops_total", "uncached FLOPs ÷ cached FLOPs up to the selected step", Unit::ratio,
            quotient(flopsTotal[1], flopsTotal[0]));
        add("ratio.time_step", "uncached time ÷ cached time at the selected step", Unit::ratio,
            quotient(timeStep[1], timeStep[0]));
        add("ratio.time_total", "uncached time ÷ cached time up to the selected step", Unit::ratio,
            quotient(timeTotal[1], timeTotal[0]));

        // --- the prefill (step 0 of the cached run)
        const Getter prefillIntensity = prefillField("counters.flops() / counters.bytes_read()", intensity);
        add("prefill.tokens", "tokens the prefill ran at once", Unit::count,
            prefillField("pos_end - pos_begin", fedTokens));
        add("prefill.flops", "FLOPs of the prefill", Unit::flops, prefillField("counters.flops()", flops));
        add("prefill.time", "wall time of the prefill: the wait before the first new token", Unit::seconds,
            prefillField("counters.wall_seconds", wall));
        add("prefill.time_per_token", "prefill wall time per prompt token", Unit::seconds,
            prefillField("counters.wall_seconds / (pos_end - pos_begin)",
                         [](const StepTrace& t) { return t.counters.wall_seconds / fedTokens(t); }));
        add("prefill.intensity", "FLOPs per byte read by the prefill", Unit::intensity, prefillIntensity);
        add("prefill.weights_read", "weight bytes the prefill read", Unit::bytes,
            prefillField("counters.weight_bytes",
                         [](const StepTrace& t) { return double(t.counters.total().weight_bytes); }));

        // --- the cached run's decode steps up to the selected one
        add("decode.time_per_token", "mean wall time of the cached run's decode steps so far", Unit::seconds,
            [](const Ctx& x) -> Result<Read> {
                if (!x.cached || x.cachedStep < 1) return unavailable("no decode step yet: press Step");
                double sum = 0;
                for (int i = 1; i <= x.cachedStep; ++i)
                    sum += x.store.trace(Side::cached, i)->counters.wall_seconds;
                return Read{sum / x.cachedStep,
                            QStringLiteral("cached run, steps 1 to %1: mean of counters.wall_seconds")
                                .arg(x.cachedStep)};
            });
        const Getter decodeIntensity =
            cachedField("counters.flops() / counters.bytes_read()", intensity, /*decodeOnly=*/true);
        add("decode.intensity", "FLOPs per byte read by the selected decode step (cached)", Unit::intensity,
            decodeIntensity);
        add("ratio.intensity", "prefill intensity ÷ decode intensity", Unit::ratio,
            quotient(prefillIntensity, decodeIntensity));

        // --- the KV cache, as the cached run wrote it
        const Getter perToken = cachedField("counters.kv_written / (pos_end - pos_begin)", bytesPerToken);
        const Getter weights = cachedField(
            "counters.weight_bytes",
            [](const StepTrace& t) { return double(t.counters.total().weight_bytes); }, /*decodeOnly=*/true);
        add("kv.bytes_per_token", "KV bytes one token adds (K and V bytes written ÷ tokens fed)", Unit::bytes,
            perToken);
        add("kv.bytes_per_value", "bytes of one stored number in the cache", Unit::count,
            cachedField("kv_written / tokens / (2 · n_layers · n_kv_heads · head_dim)", bytesPerValue));
        add("kv.rows_per_token", "K and V rows one token adds (2 · layers · KV heads)", Unit::count,
            cachedField("2 · n_layers · n_kv_heads",
                        [](const StepTrace& t) { return 2.0 * t.n_layers * t.n_kv_heads; }));
        add("kv.mha_bytes_per_token", "KV bytes per token if every query head kept its own K and V",
            Unit::bytes,
            cachedField("bytes_per_value · 2 · n_layers · n_heads · head_dim", [](const StepTrace& t) {
                return bytesPerValue(t) * 2.0 * t.n_layers * t.n_heads * t.head_dim;
            }));
        add("kv.weights_bytes", "weight bytes one decode step reads (the whole model)", Unit::bytes, weights);
        add("kv.tokens_to_match_weights", "tokens after which the cache outweighs the model", Unit::count,
            quotient(weights, perToken));

        // --- published models at real scale (the reference catalog), in bf16
        const Getter llama2 = scaleValue("Llama-2-7B", ScaleWhat::kvPerToken);
        const Getter llama3 = scaleValue("Llama-3.1-8B", ScaleWhat::kvPerToken);
        add("scale.llama2_7b_kv", "Llama-2-7B (MHA, 32 KV heads): KV bytes per token in bf16", Unit::bytes,
            llama2);
        add("scale.llama3_8b_kv", "Llama-3.1-8B (GQA, 8 KV heads): KV bytes per token in bf16", Unit::bytes,
            llama3);
        add("scale.llama3_8b_conv", "Llama-3.1-8B: KV bytes of one conversation at its full context (bf16)",
            Unit::bytes, scaleValue("Llama-3.1-8B", ScaleWhat::kvPerConversation));
        add("scale.llama3_8b_weights", "Llama-3.1-8B: weight bytes in bf16", Unit::bytes,
            scaleValue("Llama-3.1-8B", ScaleWhat::weights));
        add("scale.llama3_70b_kv", "Llama-3.1-70B: KV bytes per token in bf16", Unit::bytes,
            scaleValue("Llama-3.1-70B", ScaleWhat::kvPerToken));
        add("scale.llama3_70b_conv", "Llama-3.1-70B: KV bytes of one conversation at its full context (bf16)",
            Unit::bytes, scaleValue("Llama-3.1-70B", ScaleWhat::kvPerConversation));
        add("scale.llama3_70b_weights", "Llama-3.1-70B: weight bytes in bf16", Unit::bytes,
            scaleValue("Llama-3.1-70B", ScaleWhat::weights));
        add("scale.deepseek_v3_kv", "DeepSeek-V3 (MLA): KV bytes per token in bf16", Unit::bytes,
            scaleValue("DeepSeek-V3", ScaleWhat::kvPerToken));
        add("scale.gqa_saving", "Llama-2-7B's KV bytes per token ÷ Llama-3.1-8B's (MHA vs GQA)", Unit::ratio,
            quotient(llama2, llama3));

        // --- the right pane's cache variant (int4, h2o, …), as its run measured it against the exact cache
        add("variant.bytes_per_value",
            "bytes one stored number takes in the variant's cache, scales included", Unit::tiny,
            variantField("cache.bytes_per_value",
                         [](const StepTrace& t) { return t.cache.bytes_per_value; }));
        add("variant.kv_bytes", "KV bytes the variant's cache holds after the selected step", Unit::bytes,
            variantField("counters.kv_bytes_resident",
                         [](const StepTrace& t) { return double(t.counters.kv_bytes_resident); }));
        add("variant.kv_bytes_full", "KV bytes the exact float32 cache would hold for the same tokens",
            Unit::bytes, variantField("counters.kv_bytes_full", [](const StepTrace& t) {
                return double(t.counters.kv_bytes_full);
            }));
        add("variant.saved", "share of the exact cache's bytes the variant does not hold", Unit::percent,
            variantField("1 − counters.kv_bytes_resident / counters.kv_bytes_full", [](const StepTrace& t) {
                return t.counters.kv_bytes_full
                           ? 1.0 - double(t.counters.kv_bytes_resident) / double(t.counters.kv_bytes_full)
                           : NAN;
            }));
        add("variant.rows", "tokens the variant's cache holds per layer and KV head", Unit::count,
            variantField("cache.rows", [](const StepTrace& t) { return double(t.cache.rows); }));
        add("variant.tokens_evicted", "tokens the variant dropped so far, per layer and KV head", Unit::count,
            variantField("cumulative.kv_rows_evicted / (n_layers · n_kv_heads)", [](const StepTrace& t) {
                return double(t.cumulative.kv_rows_evicted) / double(t.n_layers * t.n_kv_heads);
            }));
        add("variant.kl", "KL(exact ‖ variant) of the next-token distributions at the selected step, nats",
            Unit::tiny,
            variantField(
                "quality.kl", [](const StepTrace& t) { return t.quality.measured ? t.quality.kl : NAN; },
                true));
        add("variant.kl_mean", "mean KL(exact ‖ variant) over the steps compared so far, nats", Unit::tiny,
            variantField(
                "quality.kl_sum / quality.steps",
                [](const StepTrace& t) { return t.quality.kl_sum / double(t.quality.steps); }, true));
        add("variant.top1_agreements",
            "steps so far where the variant's most likely token was the exact run's", Unit::count,
            variantField(
                "quality.top1_agreements",
                [](const StepTrace& t) { return double(t.quality.top1_agreements); }, true));
        add("variant.steps_compared", "steps so far compared with the exact run", Unit::count,
            variantField(
                "quality.steps", [](const StepTrace& t) { return double(t.quality.steps); }, true));
        add("variant.max_logit_diff", "largest |Δ logit| against the exact run so far", Unit::tiny,
            variantField(
                "quality.max_abs_logit_diff_so_far",
                [](const StepTrace& t) { return t.quality.max_abs_logit_diff_so_far; }, true));

        // --- the Conversations view: many conversations in one KV budget, paged or reserved
        using Snap = ConversationsSnapshot;
        add("conv.count", "conversations the view ran", Unit::count,
            snapshotField("tokens.size()", [](const Snap& s) { return double(s.tokens.size()); }));
        add("conv.budget", "the KV memory budget they share", Unit::bytes,
            snapshotField("paged.budget_bytes", [](const Snap& s) { return double(s.paged.budget_bytes); }));
        add("conv.block_tokens", "tokens in one block (page) of the paged cache", Unit::count,
            snapshotField("paged.block_size", [](const Snap& s) { return double(s.paged.block_size); }));
        add("conv.reservation_tokens", "tokens reserved up front for each conversation (the limit)",
            Unit::count, snapshotField("reserved.sequences[0].reserved_tokens", [](const Snap& s) {
                return s.reserved.sequences.empty() ? NAN : double(s.reserved.sequences[0].reserved_tokens);
            }));
        add("conv.paged_held", "conversations the paged cache holds at once", Unit::count,
            snapshotField("paged.sequences.size()",
                          [](const Snap& s) { return double(s.paged.sequences.size()); }));
        add("conv.reserved_held", "conversations the reserved cache holds at once", Unit::count,
            snapshotField("reserved.sequences.size()",
                          [](const Snap& s) { return double(s.reserved.sequences.size()); }));
        add("conv.paged_allocated", "bytes the paged cache allocated (blocks in use)", Unit::bytes,
            snapshotField("paged.bytes_allocated",
                          [](const Snap& s) { return double(s.paged.bytes_allocated); }));
        add("conv.reserved_allocated", "bytes the reserved cache allocated (whole reservations)", Unit::bytes,
            snapshotField("reserved.bytes_allocated",
                          [](const Snap& s) { return double(s.reserved.bytes_allocated); }));
        add("conv.paged_wasted", "bytes the paged cache allocated but holds no token in", Unit::bytes,
            snapshotField("paged.wasted_bytes()",
                          [](const Snap& s) { return double(s.paged.wasted_bytes()); }));
        add("conv.reserved_wasted", "bytes the reserved cache allocated but holds no token in", Unit::bytes,
            snapshotField("reserved.wasted_bytes()",
                          [](const Snap& s) { return double(s.reserved.wasted_bytes()); }));
        add("conv.prefix_reused",
            "prompt tokens taken from another conversation's cache, not prefilled again", Unit::count,
            snapshotField("prefixReused", [](const Snap& s) { return double(s.prefixReused); }));
        add("conv.sharing_saved_flops", "FLOPs the same conversations paged without sharing computed more",
            Unit::flops, [](const Ctx& x) -> Result<Read> {
                if (x.conversations && x.conversations->snapshot &&
                    !x.conversations->snapshot->unsharedFailed.isEmpty())
                    return unavailable(
                        "paged without sharing, the conversations did not fit in the budget: "
                        "raise the budget in the Conversations view");
                return snapshotField("unsharedCounters.flops() - pagedCounters.flops()", [](const Snap& s) {
                    return double(s.unsharedCounters.flops()) - double(s.pagedCounters.flops());
                })(x);
            });
        add("turn.history_tokens", "tokens of turn 1 (prompt and reply) held in the cache", Unit::count,
            turnField("history_tokens", [](const SecondTurn& t) { return double(t.history_tokens); }));
        add("turn.new_tokens", "tokens of the new message", Unit::count,
            turnField("turn2_tokens", [](const SecondTurn& t) { return double(t.turn2_tokens); }));
        add("turn.ttft_cached", "time to turn 2's first token with turn 1's cache (median)", Unit::seconds,
            turnField("ttft_cached_seconds", [](const SecondTurn& t) { return t.ttft_cached_seconds; }));
        add("turn.ttft_uncached", "time to turn 2's first token prefilling everything again (median)",
            Unit::seconds,
            turnField("ttft_uncached_seconds", [](const SecondTurn& t) { return t.ttft_uncached_seconds; }));
        add("turn.speedup", "time without the cache / time with it, to turn 2's first token", Unit::ratio,
            turnField("ttft_uncached_seconds / ttft_cached_seconds", [](const SecondTurn& t) {
                return t.ttft_cached_seconds > 0 ? t.ttft_uncached_seconds / t.ttft_cached_seconds : NAN;
            }));
        add("turn.flops_cached", "FLOPs of turn 2's first step with the cache", Unit::flops,
            turnField("flops_cached", [](const SecondTurn& t) { return double(t.flops_cached); }));
        add("turn.flops_uncached", "FLOPs of turn 2's first step prefilling everything", Unit::flops,
            turnField("flops_uncached", [](const SecondTurn& t) { return double(t.flops_uncached); }));
        return d;
    }();
    return table;
}

const Def* findDef(const QString& name) {
    for (const Def& d : defs())
        if (d.name == name) return &d;
    return nullptr;
}

QString writeValue(Unit unit, const Read& r, const TraceStore& store) {
    switch (unit) {
        case Unit::count:
            return formatCount(uint64_t(std::llround(r.number)));
        case Unit::flops:
            return formatFlops(r.number);
        case Unit::bytes:
            return formatBytes(r.number);
        case Unit::seconds:
            return formatSeconds(r.number);
        case Unit::ratio:
            return r.number >= 10 ? QString::number(r.number, 'f', 0) + QStringLiteral("×")
                                  : QString::number(r.number, 'f', 1) + QStringLiteral("×");
        case Unit::intensity:
            return QString::number(r.number, 'f', r.number >= 10 ? 0 : 1) + QStringLiteral(" FLOP/B");
        case Unit::percent:
            return QString::number(100.0 * r.number, 'f', 0) + QStringLiteral("%");
        case Unit::tiny:
            return QString::number(r.number, 'g', 2);
        case Unit::token:
            return tokenQuoted(store.model().tokenizer.get(), r.token);
    }
    return QString();
}

}  // namespace

const std::vector<LessonValueInfo>& lessonValueNames() {
    static const std::vector<LessonValueInfo> names = [] {
        std::vector<LessonValueInfo> out;
        static std::vector<QByteArray> keep;
        for (const Def& d : defs()) {
            keep.push_back(d.name.toUtf8());
        }
        for (size_t i = 0; i < defs().size(); ++i)
            out.push_back({keep[i].constData(), defs()[i].description.constData()});
        return out;
    }();
    return names;
}

bool isLessonValueName(const QString& name) {
    return findDef(name) != nullptr;
}

Result<LessonValue> lessonValue(const TraceStore& store, const QString& name,
                                const ConversationsResults* conversations) {
    const Def* def = findDef(name);
    if (!def) return Status::error(QStringLiteral("unknown live number {%1}").arg(name).toStdString());
    Ctx x{store};
    x.conversations = conversations;
    if (store.hasModel() && !store.empty()) {
        x.cachedStep = store.stepFor(Side::cached);
        x.uncachedStep = store.stepFor(Side::uncached);
        x.cached = store.trace(Side::cached, x.cachedStep);
        x.uncached = store.trace(Side::uncached, x.uncachedStep);
        x.prefill = store.trace(Side::cached, 0);
    }
    Result<Read> r = def->get(x);
    if (!r)
        return Status::error(
            QStringLiteral("{%1}: %2").arg(name, QString::fromStdString(r.message())).toStdString());
    if (def->unit != Unit::token && !std::isfinite(r->number))
        return Status::error(QStringLiteral("{%1}: not measured at this step").arg(name).toStdString());
    return LessonValue{name, r->number, writeValue(def->unit, *r, store), r->source};
}

}  // namespace kvscope::app
