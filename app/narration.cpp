#include "narration.h"

#include <cmath>

#include "format.h"
#include "token_text.h"

namespace kvscope::app {

namespace {

QString coloured(const QColor& c, const QString& text) {
    return QStringLiteral("<b style=\"color:%1\">%2</b>").arg(c.name(), text.toHtmlEscaped());
}

QString num(const QString& text) {
    return QStringLiteral("<b>%1</b>").arg(text.toHtmlEscaped());
}

QString ratio(double a, double b) {
    if (!(a > 0) || !(b > 0)) return QStringLiteral("–");
    const double r = a / b;
    return r >= 10 ? QString::number(r, 'f', 0) + QStringLiteral("×")
                   : QString::number(r, 'f', 1) + QStringLiteral("×");
}

// What a cache variant (the right pane's run) did this step, in words, with its live numbers.
QString variantStep(const StepTrace& b, const ModelConfig& c, const Tokenizer* tok, const QString& name) {
    const CacheState& cs = b.cache;
    const Counters& k = b.counters;
    QString html;
    QString what;
    if (cs.element != "f32")
        what = QObject::tr(
                   "stores each K and V value as <b>%1</b>: %2 bytes a value with its scales instead of 4")
                   .arg(QString::fromStdString(cs.element).toHtmlEscaped())
                   .arg(cs.bytes_per_value, 0, 'g', 3);
    const int perToken = std::max(1, c.n_layers * c.n_kv_heads);
    const uint64_t evicted = k.kv_rows_evicted / uint64_t(perToken);
    QString kept;
    if (!cs.contiguous || cs.rows < b.pos_end) {
        kept = QObject::tr("holds <b>%1 of the %2 tokens</b>").arg(cs.rows).arg(b.pos_end);
        if (evicted > 0) kept += QObject::tr(" and evicted %1 this step").arg(num(formatCount(evicted)));
        if (cs.sinks > 0)
            kept += QObject::tr(" (the first %1 are attention sinks, never evicted)").arg(cs.sinks);
        if (cs.reindexed) kept += QObject::tr("; positions are re-indexed within the cache");
    }
    html += QObject::tr("<p>%1 (%2) ").arg(name, QString::fromStdString(cs.label).toHtmlEscaped());
    QStringList parts;
    if (!what.isEmpty()) parts << what;
    if (!kept.isEmpty()) parts << kept;
    if (parts.isEmpty()) parts << QObject::tr("keeps every row in float32, as the exact cache does");
    html += parts.join(QObject::tr(", and ")) + QStringLiteral(". ");
    const double saved = double(k.kv_bytes_full) - double(k.kv_bytes_resident);
    html += QObject::tr("It holds %1 where the exact cache holds %2: %3 saved.</p>")
                .arg(num(formatBytes(double(k.kv_bytes_resident))), num(formatBytes(double(k.kv_bytes_full))),
                     num(formatBytes(saved)));
    const Quality& q = b.quality;
    if (q.measured) {
        html +=
            QObject::tr(
                "<p><b>What it cost.</b> Fed the same tokens, its next-token distribution is %1 nats (KL) "
                "from the exact run's, the largest logit moved by %2, and its top choice %3 (%4). So far: "
                "mean KL %5, top-1 agreement %6 of %7 steps.</p>")
                .arg(num(QString::number(q.kl, 'g', 3)), num(QString::number(q.max_abs_logit_diff, 'g', 3)),
                     q.top1_agrees ? QObject::tr("is the same") : QObject::tr("<b>differs</b>"),
                     tokenQuoted(tok, q.reference_top1).toHtmlEscaped(),
                     num(QString::number(q.kl_sum / double(std::max<int64_t>(1, q.steps)), 'g', 3)))
                .arg(q.top1_agreements)
                .arg(q.steps);
    } else if (q.first_disagreement_step >= 0) {
        // Not measured at this step (running free, or past the context): when its choice last matched.
        html += QObject::tr("<p>Its top choice first differed from the exact run's at step %1.</p>")
                    .arg(q.first_disagreement_step);
    }
    return html;
}

QString intro(const TraceStore& store, const Theme& th) {
    const ModelConfig& c = store.model().config();
    QString html;
    html += QObject::tr(
        "<p>A language model writes text <b>one token at a time</b> (a token is a word or a piece "
        "of one). To pick each new token it looks back at every token so far. For that, each layer "
        "turns every token into a <b>key</b> (K) and a <b>value</b> (V) vector: the new token's "
        "<i>query</i> is compared with all the keys (that is <b>attention</b>), and the values of the "
        "tokens it attends to are mixed into its answer.</p>");
    html +=
        QObject::tr(
            "<p>KVScope runs the same model twice, side by side. %1 keeps every token's K and V in a "
            "<b>KV cache</b>, so each step only computes them for the one new token. %2 keeps nothing and "
            "recomputes K and V for the whole sequence at every step. Both must give exactly the same "
            "answer; watch what each pays for it.</p>")
            .arg(coloured(th.side(Side::cached), sideTitle(Side::cached)),
                 coloured(th.side(Side::uncached), sideTitle(Side::uncached)));
    html += QObject::tr(
                "<p>This model has %1 layers, %2 query heads and %3 KV heads of %4 dimensions. Each token "
                "adds 2 (K and V) × %1 layers × %3 KV heads × %4 dimensions × 4 bytes = %5 to the cache.</p>")
                .arg(c.n_layers)
                .arg(c.n_heads)
                .arg(c.n_kv_heads)
                .arg(c.head_dim)
                .arg(num(formatBytes(double(c.kv_bytes_per_token(4)))));
    return html;
}

// What the end of the context means, and what real systems do there. `who`: the run that is full when
// only one is (a race); empty when both are.
QString contextFull(const TraceStore& store, const QString& who) {
    const ModelInfo& m = store.model();
    QString html = QObject::tr("<h3>The context is full</h3>");
    html += QObject::tr(
                "<p>%1 now holds <b>%2 tokens</b>, all the positions a run has here%3. The model still "
                "predicted a next token, but there is no position left to feed it in, so this is where the "
                "run stops: <b>Step and Play are off</b>. Step back (←) to continue from an earlier step, "
                "or Reset.</p>")
                .arg(who.isEmpty() ? QObject::tr("Each run") : who)
                .arg(m.capacity)
                .arg(m.capacity < m.config().context_length
                         ? QObject::tr(" (fewer than the model's %1, so the history of both runs fits in "
                                       "memory)")
                               .arg(m.config().context_length)
                         : QObject::tr(" (the model's context length)"));
    html += QObject::tr(
        "<p><b>What real systems do here.</b> They <b>stop</b>: the answer ends, as when a chat reaches "
        "its length limit. Or they <b>slide a window</b>: keep the K and V of only the last few thousand "
        "tokens (often plus the first few, which attention leans on), dropping the oldest rows, so the "
        "cache stops growing. Or they <b>evict</b>: drop the cached tokens that received the least "
        "attention. Sliding and evicting let generation go on with a bounded cache, at the price of "
        "forgetting what was dropped.</p>");
    return html;
}

// The most tokens the run of trace `t` may reach (run_types.h): a cache variant that evicts goes on past
// the context.
int tokenLimitOf(const StepTrace& t, const ModelInfo& m) {
    if (t.mode != SessionMode::cached) return m.capacity;
    auto policy = parse_cache_variant(t.cache.policy);
    return policy ? runTokenLimit(m.config(), m.capacity, true, policy.value()) : m.capacity;
}

// Lockstep past the context: the exact run has stopped and the cache variant goes on alone.
QString pastContextStep(const TraceStore& store, const StepTrace& b, int step, const QString& cachedName,
                        const QString& variantName) {
    const ModelInfo& m = store.model();
    const ModelConfig& c = m.config();
    const Tokenizer* tok = store.model().tokenizer.get();
    const CacheState& cs = b.cache;
    const int32_t fed = b.input_tokens.empty() ? -1 : b.input_tokens.front();
    QString html = QObject::tr("<h3>Step %1 — past the context</h3>").arg(step);
    html += QObject::tr(
                "<p>%1 stopped at <b>%2 tokens</b>: it keeps a row for every position, and there is no "
                "position left. %3 goes on alone: it fed %4 in at position %5 and picked the next token "
                "itself (there is no exact run here to feed it). It is now <b>%6 tokens past</b> the "
                "end.</p>")
                .arg(cachedName)
                .arg(m.capacity)
                .arg(variantName, num(tokenQuoted(tok, fed)))
                .arg(b.pos_begin)
                .arg(num(QString::number(b.pos_end - m.capacity)));
    QString positions;
    if (cs.reindexed)
        positions = QObject::tr(
                        "It numbers its rows by their place in the cache, not in the text (<i>re-indexed</i> "
                        "positions, as StreamingLLM does), so the model never sees a distance past %1 — "
                        "nothing it was not trained on.")
                        .arg(cs.rows);
    else
        positions = QObject::tr(
                        "It keeps each row's position in the text, so the model now sees distances up to "
                        "%1, which it never saw in training (its context is %2): expect its text to degrade.")
                        .arg(b.pos_begin)
                        .arg(c.context_length);
    html +=
        QObject::tr(
            "<p>Its cache holds <b>%1 rows</b> per layer and KV head%2, whatever the length: the memory "
            "stays flat. %3</p>")
            .arg(cs.rows)
            .arg(cs.sinks > 0 ? QObject::tr(" (the first %1 tokens kept as attention sinks)").arg(cs.sinks)
                              : QString())
            .arg(positions);
    html += variantStep(b, c, tok, variantName);
    html += QObject::tr(
        "<p><i>Its quality cannot be measured live here: past the context there is no exact run to compare "
        "it with. <code>kvscope-cli lab</code> measures it, teacher-forced over a long text: perplexity in "
        "windows past the context for each policy.</i></p>");
    return html;
}

}  // namespace

QString narrate(const TraceStore& store, const Theme& th, CompareMode mode) {
    if (!store.hasModel())
        return QObject::tr(
            "<h3>No model</h3><p>Open a model with <b>File ▸ Open model…</b> (or drop a model file "
            "on the window).</p>");
    if (store.empty())
        return QObject::tr("<h3>Ready</h3>") + intro(store, th) +
               QObject::tr(
                   "<p><b>Type a prompt and press Step</b> (Space). The first step, the <i>prefill</i>, runs "
                   "the whole prompt at once; every further step adds one token.</p>");

    const ModelConfig& c = store.model().config();
    const Tokenizer* tok = store.model().tokenizer.get();
    const int sa = store.stepFor(Side::cached), sb = store.stepFor(Side::uncached);
    const StepTrace* a = store.trace(Side::cached, sa);
    const StepTrace* b = store.trace(Side::uncached, sb);
    const QString cachedName = coloured(th.side(Side::cached), sideTitle(Side::cached));
    const QString uncachedName = coloured(th.side(Side::uncached), sideTitle(Side::uncached));
    const double perToken = double(c.kv_bytes_per_token(4));
    QString html;
    const int capacity = store.model().capacity;
    const bool cachedFull = a && a->pos_end >= capacity;
    const int limitB = b ? tokenLimitOf(*b, store.model()) : capacity;
    const bool uncachedFull = b && b->pos_end >= limitB;
    // Lockstep with a cache variant that goes on past the context: the exact run's end is not the runs' end.
    const bool goesOn = mode == CompareMode::lockstep && b && limitB > capacity && !uncachedFull;
    QString fullBlock;
    if (goesOn && cachedFull) {
        // Past the context pastContextStep tells what happens; at the exact run's last step, this.
        if (b->pos_end <= capacity)
            fullBlock = QObject::tr(
                            "<p><b>The exact cache is full</b> (%1 tokens). %2 evicts rows, so it can go on "
                            "past the context: press Step (Space) or Play (P) to follow it alone.</p>")
                            .arg(capacity)
                            .arg(uncachedName);
    } else if (cachedFull || uncachedFull)
        fullBlock = contextFull(store, mode == CompareMode::race && cachedFull != uncachedFull
                                           ? (cachedFull ? cachedName : uncachedName)
                                           : QString());

    if (a && a->restored) {
        const int n = a->pos_end;
        html += QObject::tr("<h3>Step 0 — a saved cache, restored</h3>");
        html += QObject::tr(
                    "<p>%1 did not run these %2 tokens through the model: their K and V were <b>read from a "
                    "saved cache file</b> (File ▸ Open cache), %3 in all (2 × %4 layers × %5 KV heads × %6 "
                    "dims × %2 tokens × 4 B). Cost: <b>0 FLOPs</b>, %7 to read and check the file.</p>")
                    .arg(cachedName)
                    .arg(num(QString::number(n)))
                    .arg(num(formatBytes(perToken * n)))
                    .arg(c.n_layers)
                    .arg(c.n_kv_heads)
                    .arg(c.head_dim)
                    .arg(num(formatSeconds(a->counters.wall_seconds)));
        if (b)
            html +=
                QObject::tr(
                    "<p>%1 has no saved cache to start from, so it ran all %2 tokens: %3 in %4. That is "
                    "the prefill a saved cache spares — what a provider's \"cached input tokens\" are "
                    "not charged for.</p>")
                    .arg(uncachedName, num(QString::number(n)), num(formatFlops(double(b->counters.flops()))),
                         num(formatSeconds(b->counters.wall_seconds)));
        html += QObject::tr(
                    "<p>No attention was computed for the restored tokens, so the attention map is empty "
                    "above the next row. The file also holds the token chosen next, %1: Step (Space) feeds "
                    "it in and continues exactly where the saved run stopped.</p>")
                    .arg(num(tokenQuoted(tok, a->chosen)));
    } else if (a && a->phase == Phase::prefill) {
        const int n = a->pos_end;
        html += QObject::tr("<h3>Step 0 — the prefill</h3>");
        html += QObject::tr(
                    "<p>The prompt's %1 tokens went through the model <b>in one pass</b>. In every one of "
                    "the %2 layers, each prompt token got its K and V vectors: %1 rows per KV head, all "
                    "written at once (the highlighted rows).</p>")
                    .arg(num(QString::number(n)))
                    .arg(c.n_layers);
        html += QObject::tr(
                    "<p>%1 <b>kept</b> them: its cache now holds 2 × %2 layers × %3 KV heads × %4 dims × %5 "
                    "tokens × 4 B = %6.</p>")
                    .arg(cachedName)
                    .arg(c.n_layers)
                    .arg(c.n_kv_heads)
                    .arg(c.head_dim)
                    .arg(n)
                    .arg(num(formatBytes(perToken * n)));
        if (b && b->mode == SessionMode::cached)
            html += variantStep(*b, c, tok, uncachedName);
        else if (b)
            html += QObject::tr(
                        "<p>%1 computed exactly the same rows, used them, and <b>threw them away</b>. So far "
                        "the two runs did the same work: %2 and %3.</p>")
                        .arg(uncachedName, num(formatFlops(double(a->counters.flops()))),
                             num(formatFlops(double(b->counters.flops()))));
        html += QObject::tr("<p>The model's guess for the token after the prompt: %1 (probability %2).%3</p>")
                    .arg(num(tokenQuoted(tok, a->chosen)))
                    .arg(QString::number(double(a->chosen_prob), 'f', 2))
                    .arg(a->pos_end < store.model().capacity ? QObject::tr(" The next step feeds it back in.")
                                                             : QString());
    } else if (a && goesOn && b->pos_end > a->pos_end) {
        html += pastContextStep(store, *b, sb, cachedName, uncachedName);
    } else if (a) {
        const int p = a->pos_begin;
        const int32_t fed = a->input_tokens.empty() ? -1 : a->input_tokens.front();
        const bool race = mode == CompareMode::race;
        html += QObject::tr("<h3>Step %1 — one new token</h3>").arg(sa);
        // The end of the context first: it is what a class needs to know now, and the rest of the text
        // describes a step the runs cannot follow.
        html += fullBlock;
        fullBlock.clear();
        if (race)
            html +=
                QObject::tr("<p>%1 fed the token %2 in at position %3 and predicted the token after it.</p>")
                    .arg(cachedName, num(tokenQuoted(tok, fed)))
                    .arg(p);
        else
            html += QObject::tr("<p>The token %1 went in at position %2. %3</p>")
                        .arg(num(tokenQuoted(tok, fed)))
                        .arg(p)
                        .arg(a->pos_end < store.model().capacity
                                 ? QObject::tr("Both runs must now predict the token after it.")
                                 : QObject::tr("It took the last position the runs have."));
        html += QObject::tr(
                    "<p>%1 computed q, k and v for <b>this one token</b> in each of the %2 layers, "
                    "<b>appended one row</b> to each K and V block (%3 in all), and let the new query "
                    "attend over all %4 cached keys. Cost: %5 in %6.</p>")
                    .arg(cachedName)
                    .arg(c.n_layers)
                    .arg(num(formatBytes(perToken)))
                    .arg(p + 1)
                    .arg(num(formatFlops(double(a->counters.flops()))))
                    .arg(num(formatSeconds(a->counters.wall_seconds)));
        if (b && b->phase == Phase::decode && b->mode == SessionMode::cached) {
            html += variantStep(*b, c, tok, uncachedName);
        } else if (b && b->phase == Phase::decode) {
            if (race && sb != sa)
                html +=
                    QObject::tr("<p><i>At its own step %1 (it runs separately in a race):</i></p>").arg(sb);
            // The comparison is made at the same sequence length: in a race the cached run's step sb.
            const StepTrace* same = race ? store.trace(Side::cached, sb) : a;
            const bool comparable = same && same->pos_end == b->pos_end;
            const QString versus =
                !comparable ? QObject::tr("(the cached run has not reached this length yet)")
                : race && sb != sa
                    ? QObject::tr("— %1 the work the cached run did at the same length (%2 tokens)")
                          .arg(num(ratio(double(b->counters.flops()), double(same->counters.flops()))))
                          .arg(b->pos_end)
                    : QObject::tr("— %1 the work of the cached run")
                          .arg(num(ratio(double(b->counters.flops()), double(same->counters.flops()))));
            html += QObject::tr(
                        "<p>%1 had no cache, so it ran <b>all %2 tokens</b> through every layer again, "
                        "<b>recomputing %3 rows of K and V</b> it had already computed at earlier steps, to "
                        "reach the same answer. Cost: %4 in %5 %6.</p>")
                        .arg(uncachedName)
                        .arg(b->pos_end)
                        .arg(num(formatCount(b->counters.tokens_recomputed)))
                        .arg(num(formatFlops(double(b->counters.flops()))))
                        .arg(num(formatSeconds(b->counters.wall_seconds)))
                        .arg(versus);
            html += QObject::tr(
                "<p><i>Times are wall-clock measurements: they jitter with whatever else the computer is "
                "doing, so one step can spike. FLOPs are counted exactly and come out the same on every "
                "run.</i></p>");
        }
        const double diff = store.step(Side::cached, sa).maxLogitDiff;
        if (mode == CompareMode::lockstep && std::isfinite(diff) && !(b && b->mode == SessionMode::cached))
            html +=
                QObject::tr(
                    "<p>Same answer? The two runs' scores for every possible next token differ by at most "
                    "%1 (rounding), so both pick %2.</p>")
                    .arg(num(QString::number(diff, 'g', 2)), num(tokenQuoted(tok, a->chosen)));
        const bool variant = b && b->mode == SessionMode::cached;  // the right pane runs a cache variant
        html += QObject::tr(
                    "<p><b>Memory.</b> %1 holds 2 × %2 layers × %3 KV heads × %4 dims × %5 tokens × 4 B = %6 "
                    "and grows by %7 per token.</p>")
                    .arg(variant ? QObject::tr("The exact cache") : QObject::tr("The cache"))
                    .arg(c.n_layers)
                    .arg(c.n_kv_heads)
                    .arg(c.head_dim)
                    .arg(a->pos_end)
                    .arg(num(formatBytes(perToken * a->pos_end)))
                    .arg(formatBytes(perToken));
        if (b && !variant)
            html += QObject::tr(
                        "<p>%1 keeps 0 B between steps but builds %2 of scratch K and V (its %3 tokens) "
                        "during each one, and throws it away.</p>")
                        .arg(uncachedName, num(formatBytes(perToken * b->pos_end)))
                        .arg(b->pos_end);
        if (b)
            html += QObject::tr(
                        "<p><b>So far.</b> %1 %2 in %3 (%4 tokens); %5 %6 in %7 (%8 tokens). The cached cost "
                        "per token stays almost flat (only attention grows with the length); the uncached "
                        "cost grows with every token, because it repeats the whole sequence.</p>")
                        .arg(cachedName, num(formatFlops(double(a->cumulative.flops()))),
                             num(formatSeconds(a->cumulative.wall_seconds)))
                        .arg(a->pos_end)
                        .arg(uncachedName, num(formatFlops(double(b->cumulative.flops()))),
                             num(formatSeconds(b->cumulative.wall_seconds)))
                        .arg(b->pos_end);
    }
    html += fullBlock;  // a prefill that filled the context says it last
    if (mode == CompareMode::race && b && sa != sb)
        html += QObject::tr(
                    "<p><b>Race.</b> Each run goes at its own speed on its own thread: %1 is at step %2, "
                    "%3 only at step %4.</p>")
                    .arg(cachedName)
                    .arg(sa)
                    .arg(uncachedName)
                    .arg(sb);
    if (!store.followsLatest())
        html += QObject::tr(
                    "<p><i>You are looking back at step %1 of %2. Step (Space) continues from here and drops "
                    "the later steps.</i></p>")
                    .arg(store.selectedStep())
                    .arg(store.maxStepCount() - 1);
    return html;
}

QString stepCaption(const TraceStore& store) {
    if (!store.hasModel() || store.empty()) return QString();
    const ModelConfig& c = store.model().config();
    const int sa = store.stepFor(Side::cached);
    const StepTrace* a = store.trace(Side::cached, sa);
    if (!a) return QString();
    QString text;
    if (a->restored) {
        text = QObject::tr(
                   "Step 0, a saved cache: the cached run restored the K and V of %1 tokens (%2) from a "
                   "file, computing nothing; the uncached run had to compute them.")
                   .arg(a->pos_end)
                   .arg(formatBytes(double(c.kv_bytes_per_token(4)) * a->pos_end));
    } else if (a->phase == Phase::prefill) {
        text = QObject::tr(
                   "Step 0, the prefill: both runs put the prompt's %1 tokens through all %2 layers in "
                   "one pass (%3 each); the cached run keeps their K and V (%4), the uncached run "
                   "throws them away.")
                   .arg(a->pos_end)
                   .arg(c.n_layers)
                   .arg(formatFlops(double(a->counters.flops())))
                   .arg(formatBytes(double(c.kv_bytes_per_token(4)) * a->pos_end));
    } else {
        text = QObject::tr(
                   "Step %1: the cached run computed K and V for 1 new token (%2) and appended them to "
                   "its cache")
                   .arg(sa)
                   .arg(formatFlops(double(a->counters.flops())));
        const int same = store.sameLengthStep();
        const StepTrace* b = store.trace(Side::uncached, store.stepFor(Side::uncached));
        const StepTrace* sameA = same >= 0 ? store.trace(Side::cached, same) : nullptr;
        if (b && b->phase == Phase::decode && sameA && sameA->pos_end == b->pos_end)
            text += QObject::tr(
                        "; the uncached run recomputed all %1 tokens (%2, %3 the work) for the same "
                        "answer.")
                        .arg(b->pos_end)
                        .arg(formatFlops(double(b->counters.flops())))
                        .arg(ratio(double(b->counters.flops()), double(sameA->counters.flops())));
        else
            text += QLatin1Char('.');
    }
    if (a->pos_end >= store.model().capacity)
        text +=
            QObject::tr(" The context is full (%1 tokens): the runs stop here.").arg(store.model().capacity);
    return text;
}

}  // namespace kvscope::app
