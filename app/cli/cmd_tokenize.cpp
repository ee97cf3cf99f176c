// kvscope-cli tokenize TOKENIZER — what a tokenizer makes of a text: the ids (and with --pieces each id's
// piece and bytes), or with --decode the text of a list of ids. TOKENIZER is a tokenizer file
// (tokenizer.json, vocab.json, tokenizer.bin, tokenizer.model) or a Hugging Face folder. --time reports
// how long encoding took (the text is encoded once, after loading). --file reads at most kMaxFileBytes
// (a pipe or a device such as /dev/zero can be endless) and says so when there is more.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/tokenizer.h"

namespace kvscope::cli {

namespace {

constexpr std::streamsize kMaxFileBytes = 64 << 20;

struct TokenizeOptions {
    std::string tokenizer;
    std::string text;
    std::string file;
    std::string decode;
    bool no_special = false;
    bool pieces = false;
    bool time = false;
};

// Control characters as escapes, so a piece prints on one line; when the bytes are not whole UTF-8
// characters (one byte of "é"), the bytes above 0x7F are escaped too instead of printing as U+FFFD.
std::string printable(const std::string& bytes) {
    const bool whole_characters = is_valid_utf8(bytes);
    std::string out;
    for (unsigned char c : bytes) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !whole_characters)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else
            out += static_cast<char>(c);
    }
    return out;
}

int run(const TokenizeOptions& o) {
    auto tok = load_tokenizer(o.tokenizer);
    if (!tok) return fail(tok.message());
    const Tokenizer& t = *tok.value();

    if (!o.decode.empty()) {
        auto ids = parse_token_list(o.decode, "--decode");
        if (!ids) return fail(ids.message());
        std::fputs((t.decode(ids.value()) + "\n").c_str(), stdout);
        return 0;
    }
    if (!o.text.empty() == !o.file.empty()) return fail("give exactly one of --text \"...\" or --file PATH");
    std::string text = o.text;
    if (!o.file.empty()) {
        std::ifstream in(o.file, std::ios::binary);
        if (!in) return fail(o.file + ": cannot open for reading");
        // One byte past the limit tells "exactly at the limit" from "more".
        text.resize(size_t(kMaxFileBytes) + 1);
        in.read(text.data(), kMaxFileBytes + 1);
        if (in.bad()) return fail(o.file + ": read error");
        text.resize(size_t(in.gcount()));
        if (std::streamsize(text.size()) > kMaxFileBytes)
            return fail("--file " + o.file + ": longer than " + std::to_string(kMaxFileBytes >> 20) +
                        " MiB, the most tokenize reads (cut it first, e.g. head -c 1M FILE > part.txt)");
    }
    const auto started = std::chrono::steady_clock::now();
    auto ids = t.encode(text, !o.no_special);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!ids) return fail(ids.message());
    if (o.pieces) {
        for (int32_t id : ids.value())
            std::printf("%8d  %-24s \"%s\"\n", id, printable(t.data().tokens[size_t(id)]).c_str(),
                        printable(t.token_bytes(id)).c_str());
    } else if (!o.time) {
        for (size_t i = 0; i < ids->size(); ++i)
            std::printf("%s%d", i ? "," : "", ids.value()[i]);
        std::printf("\n");
    }
    if (o.time)
        std::printf("%s: %zu bytes -> %zu tokens in %.1f ms (%.2f MB/s, %.2f bytes per token)\n",
                    t.describe().c_str(), text.size(), ids->size(), seconds * 1e3,
                    double(text.size()) / seconds / 1e6,
                    ids->empty() ? 0.0 : double(text.size()) / double(ids->size()));
    return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<TokenizeOptions>();
    CLI::App* cmd = app.add_subcommand("tokenize", "Encode a text with a tokenizer, or decode ids");
    cmd->add_option("tokenizer", o->tokenizer,
                    "Tokenizer file (tokenizer.json, vocab.json, tokenizer.bin, tokenizer.model), a "
                    "Hugging Face folder, or a GGUF model (its tokenizer)")
        ->required();
    cmd->add_option("--text", o->text, "Text to encode");
    cmd->add_option("--file", o->file, "File whose contents to encode (at most 64 MiB)");
    cmd->add_option("--decode", o->decode, "Ids to decode instead, as 1,2,3");
    cmd->add_flag("--no-special", o->no_special, "Do not add BOS even where the model wants it");
    cmd->add_flag("--pieces", o->pieces,
                  "Print each id with its vocabulary piece and the bytes it stands for");
    cmd->add_flag("--time", o->time, "Print the encoding time and throughput instead of the ids");
    cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace kvscope::cli
