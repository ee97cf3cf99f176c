// A saved KV cache (.kvcache, core/engine/cache_file.cpp): parsed from memory as the format's reader does,
// then loaded into an empty session of the model the seeds were saved from (tiny-llama-gqa), exactly as
// `kvscope-cli generate --load-cache` and the app load one: identity, sizes and checksums refused with a
// message, the rows restored only when every field agrees.
#include <memory>

#include "fuzz_common.h"
#include "kvscope/backend.h"
#include "kvscope/cache_file.h"
#include "kvscope/model.h"
#include "kvscope/session.h"

namespace {

kvscope::Session& fixture_session() {
    static std::unique_ptr<kvscope::Session> session = [] {
        auto model = kvscope::load_model(kvscope::fuzz::fixture("tiny-llama-gqa"));
        if (!model) {
            std::fprintf(stderr, "fuzz: %s\n", model.message().c_str());
            std::abort();
        }
        auto engine = kvscope::Engine::create(model.value(), kvscope::make_cpu_backend(1));
        if (!engine) std::abort();
        kvscope::SessionOptions o;
        o.mode = kvscope::SessionMode::cached;
        auto s = kvscope::Session::create(engine.value(), o);
        if (!s) std::abort();
        return std::move(s.value());
    }();
    return *session;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto parsed = kvscope::parse_cache_file(std::span<const uint8_t>(data, size), "fuzz.kvcache");
    kvscope::fuzz::check_error(parsed);
    if (parsed) {
        // What the reader accepted is whole: every layer's K and V hold n_kv_heads × tokens × head_dim.
        const kvscope::CacheFileContents& c = parsed.value();
        const size_t rows = size_t(c.model.n_kv_heads) * c.tokens.size() * c.model.head_dim;
        if (c.k.size() != c.model.n_layers || c.v.size() != c.model.n_layers) std::abort();
        for (size_t l = 0; l < c.k.size(); ++l)
            if (c.k[l].size() != rows || c.v[l].size() != rows) std::abort();
    }
    kvscope::Session& session = fixture_session();
    session.reset();
    const std::string path = kvscope::fuzz::write_input(data, size, "fuzz.kvcache");
    const auto loaded = kvscope::load_cache_file(session, path);
    kvscope::fuzz::check_error(loaded);
    if (loaded && session.position() <= 0) std::abort();  // a file that loads holds at least one token
    return 0;
}
