// kvscope-cli conversations / chat — many conversations in one KV budget; a chat's second turn.
//
// conversations: prompts are taken from a text file (paragraphs separated by blank lines, e.g. the Tiny
// Shakespeare corpus: each prompt is one speech plus the next speaker's name, so the model answers with a
// speech and ends it with a blank line). They are served until the budget is full, once under contiguous
// reservation (each conversation reserves --limit tokens up front) and once paged (--block-size), and the
// complete conversations held at once are counted, with the bytes each layout wastes.
// chat: turn 1 is answered; turn 2's first token is timed with turn 1's cache and with a full prefill.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/conversations.h"
#include "kvscope/tokenizer.h"

namespace kvscope::cli {

namespace {

struct ConversationsOptions {
    ModelOptions model;
    std::string prompts_path;
    std::string system;
    int count = 64, skip = 0, limit = 512, block_size = 16, in_flight = 8, max_new = 0;
    double budget_mib = 16.0;
    std::string layouts = "both";
};

// Paragraphs of a text file (separated by blank lines).
std::vector<std::string> paragraphs(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += line + "\n";
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::function<bool(std::span<const int32_t>)> ends_paragraph(const Tokenizer* tok) {
    if (!tok) return nullptr;
    return [tok](std::span<const int32_t> reply) {
        return tok->decode(reply).find("\n\n") != std::string::npos;
    };
}

void print_result(const ServeResult& r, const ConversationsOptions& o, uint64_t per_token) {
    const MemoryMap& m = r.memory;
    int min_len = 1 << 30, max_len = 0;
    uint64_t sum = 0;
    int reused = 0;
    for (const auto& c : r.completed) {
        const int len = c.prompt_tokens + c.reply_tokens - 1;
        min_len = std::min(min_len, len);
        max_len = std::max(max_len, len);
        sum += uint64_t(len);
        reused += c.prefix_reused;
    }
    const int n = int(r.completed.size());
    std::printf("%s%s:\n", kv_layout_name(r.layout),
                r.layout == KVLayout::paged
                    ? (" (blocks of " + std::to_string(o.block_size) + " tokens)").c_str()
                    : (" (each reserves " + std::to_string(o.limit) + " tokens)").c_str());
    std::printf("  complete conversations held at once: %d", n);
    if (n) std::printf(" (lengths %d..%d tokens, mean %.0f)", min_len, max_len, double(sum) / n);
    std::printf("\n  dropped in flight when memory ran out: %d; never admitted: %d\n", r.preempted,
                r.never_admitted);
    std::printf(
        "  KV memory: budget %s, allocated %s, holding tokens %s, wasted %s (%.1f%% of allocated: %s)\n",
        human_bytes(m.budget_bytes).c_str(), human_bytes(m.bytes_allocated).c_str(),
        human_bytes(m.bytes_holding_tokens).c_str(), human_bytes(m.wasted_bytes()).c_str(),
        m.bytes_allocated ? 100.0 * double(m.wasted_bytes()) / double(m.bytes_allocated) : 0.0,
        r.layout == KVLayout::paged ? "the unfilled end of each last block" : "reserved, never written");
    if (r.layout == KVLayout::paged)
        std::printf("  blocks: %d in use of %d (%s each), %d free; prefix tokens reused: %d\n",
                    m.n_blocks - m.n_free, m.n_blocks, human_bytes(m.bytes_per_block).c_str(), m.n_free,
                    reused);
    std::printf("  %lld batch steps, %s FLOPs, %.2f s; memory ran out: %s\n", (long long)r.steps,
                human_count(r.counters.flops()).c_str(), r.seconds,
                r.memory_full ? r.full_message.c_str() : "no");
    (void)per_token;
}

int run_conversations(const ConversationsOptions& o) {
    auto loaded = load(o.model);
    if (!loaded) return 1;
    const Model& model = *loaded->model;
    if (o.prompts_path.empty())
        return fail("--prompts FILE is needed (e.g. ../shared/corpora/tinyshakespeare.txt)");
    std::ifstream f(o.prompts_path);
    if (!f) return fail(o.prompts_path + ": cannot open");
    std::stringstream ss;
    ss << f.rdbuf();
    const auto paras = paragraphs(ss.str());
    std::vector<int32_t> system;
    if (!o.system.empty()) {
        auto s = prompt_tokens(model, "", o.system);
        if (!s) return fail(s.message());
        system = s.value();
    }
    std::vector<std::vector<int32_t>> prompts;
    for (size_t i = size_t(o.skip); i + 1 < paras.size() && int(prompts.size()) < o.count; ++i) {
        // One speech, then the next speaker's name: the model answers in their voice.
        const std::string next_speaker = paras[i + 1].substr(0, paras[i + 1].find('\n') + 1);
        auto p = prompt_tokens(model, "", paras[i] + "\n" + next_speaker);
        if (!p) return fail(p.message());
        std::vector<int32_t> ids = system;
        ids.insert(ids.end(), p->begin(), p->end());
        if (int(ids.size()) * 2 > o.limit) continue;  // leave room for the reply
        prompts.push_back(std::move(ids));
    }
    if (prompts.empty()) return fail(o.prompts_path + ": no paragraph gives a prompt under half the limit");
    std::printf(
        "%zu prompts from %s (paragraphs from %d on), %s; budget %.1f MiB, limit %d tokens per conversation, "
        "%d decoding together; %s per token of K/V\n",
        prompts.size(), o.prompts_path.c_str(), o.skip,
        o.system.empty() ? "no system prompt" : "with a shared system prompt", o.budget_mib, o.limit,
        o.in_flight, human_bytes(model.config.kv_bytes_per_token(4)).c_str());
    ServeOptions so;
    so.batch.budget_bytes = uint64_t(o.budget_mib * 1024.0 * 1024.0);
    so.batch.max_tokens = o.limit;
    so.batch.block_size = o.block_size;
    so.in_flight = o.in_flight;
    so.max_new_tokens = o.max_new;
    so.reply_done = ends_paragraph(model.tokenizer.get());
    for (KVLayout layout : {KVLayout::contiguous, KVLayout::paged}) {
        if (o.layouts != "both" && o.layouts != kv_layout_name(layout)) continue;
        so.batch.layout = layout;
        so.batch.share_prefixes = layout == KVLayout::paged;
        auto r = serve_until_full(loaded->engine, prompts, so);
        if (!r) return fail(r.message());
        print_result(r.value(), o, model.config.kv_bytes_per_token(4));
    }
    return 0;
}

struct ChatOptions {
    ModelOptions model;
    std::string turn1, turn2;
    int reply_tokens = 64, repeats = 3;
};

int run_chat(const ChatOptions& o) {
    auto loaded = load(o.model);
    if (!loaded) return 1;
    const Model& model = *loaded->model;
    auto t1 = prompt_tokens(model, "", o.turn1);
    if (!t1) return fail(t1.message());
    auto t2 = prompt_tokens(model, "", o.turn2);
    if (!t2) return fail(t2.message());
    auto r = measure_second_turn(loaded->engine, t1.value(), t2.value(), o.reply_tokens,
                                 ends_paragraph(model.tokenizer.get()), o.repeats);
    if (!r) return fail(r.message());
    const SecondTurn& t = r.value();
    if (model.tokenizer) std::printf("turn 1 reply: %s\n", model.tokenizer->decode(t.reply1).c_str());
    std::printf("turn 2: %d new tokens after %d cached (%s backend)\n", t.turn2_tokens, t.history_tokens,
                loaded->engine->backend().name().c_str());
    std::printf("  time to first token, with turn 1's cache:   %8.3f ms (%s FLOPs)\n",
                t.ttft_cached_seconds * 1e3, human_count(t.flops_cached).c_str());
    std::printf("  time to first token, prefilling everything: %8.3f ms (%s FLOPs)\n",
                t.ttft_uncached_seconds * 1e3, human_count(t.flops_uncached).c_str());
    std::printf(
        "  ratio %.1fx (medians of %d, alternating); same first token %d, logits differ by at most %.3g\n",
        t.ttft_uncached_seconds / t.ttft_cached_seconds, o.repeats, t.first_token, double(t.max_logit_diff));
    return 0;
}

}  // namespace

void add_conversations_commands(CLI::App& app, int& exit_code) {
    auto co = std::make_shared<ConversationsOptions>();
    CLI::App* c = app.add_subcommand("conversations",
                                     "How many conversations a KV budget holds: reservation against paging");
    co->model.add_to(*c);
    c->add_option("--prompts", co->prompts_path, "Text file whose paragraphs make the prompts")->required();
    c->add_option("--count", co->count, "Prompts to take")->check(whole_number(1, 1000000));
    c->add_option("--skip", co->skip, "Paragraphs to skip first")->check(whole_number(0, INT32_MAX));
    c->add_option("--system", co->system,
                  "A system prompt every conversation starts with (shared when paged)");
    c->add_option("--budget-mib", co->budget_mib, "KV memory budget in MiB")
        ->check(real_number(0.0, 1 << 20, true));
    c->add_option("--limit", co->limit, "Most tokens one conversation may reach (what reservation reserves)")
        ->check(whole_number(1, 1 << 30));
    c->add_option("--block-size", co->block_size, "Tokens per block (paged)")
        ->check(whole_number(1, 1 << 20));
    c->add_option("--in-flight", co->in_flight, "Conversations decoding together")
        ->check(whole_number(1, 1 << 16));
    c->add_option("--max-new", co->max_new, "Longest reply (0: until the reply ends a speech or the limit)")
        ->check(whole_number(0, 1 << 30));
    c->add_option("--layouts", co->layouts, "both, paged or contiguous")
        ->check(CLI::IsMember({"both", "paged", "contiguous"}));
    c->callback([co, &exit_code] { exit_code = run_conversations(*co); });

    auto ch = std::make_shared<ChatOptions>();
    CLI::App* t = app.add_subcommand(
        "chat", "Time to first token of a chat's second turn, with and without turn 1's cache");
    ch->model.add_to(*t);
    t->add_option("--turn1", ch->turn1, "First message")->required();
    t->add_option("--turn2", ch->turn2, "Second message")->required();
    t->add_option("--reply-tokens", ch->reply_tokens, "Longest reply to turn 1")
        ->check(whole_number(1, 1 << 20));
    t->add_option("--repeats", ch->repeats, "Timings of each kind (the median is reported)")
        ->check(whole_number(1, 10000));
    t->callback([ch, &exit_code] { exit_code = run_chat(*ch); });
}

}  // namespace kvscope::cli
