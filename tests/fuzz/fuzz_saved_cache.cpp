// A saved KV cache (.kvcache, core/engine/cache_file.cpp): parsed from memory as the format's reader does,
// then restored into an empty session of the model the seeds were saved from (tiny-llama-gqa) whose cache
// stores the file's element type, exactly as `kvscope-cli generate --load-cache` does: identity, sizes,
// checksums and values refused with a message, the rows restored only when every field agrees.
#include <map>
#include <memory>

#include "fuzz_common.h"
#include "kvscope/backend.h"
#include "kvscope/cache_file.h"
#include "kvscope/model.h"
#include "kvscope/session.h"

namespace {

std::shared_ptr<kvscope::Engine> fixture_engine() {
    static std::shared_ptr<kvscope::Engine> engine = [] {
        auto model = kvscope::load_model(kvscope::fuzz::fixture("tiny-llama-gqa"));
        if (!model) {
            std::fprintf(stderr, "fuzz: %s\n", model.message().c_str());
            std::abort();
        }
        auto e = kvscope::Engine::create(model.value(), kvscope::make_cpu_backend(1));
        if (!e) std::abort();
        return e.value();
    }();
    return engine;
}

// An empty session whose cache stores `storage` (one kept per element type and group size).
kvscope::Session& fixture_session(const kvscope::KVStorage& storage) {
    static std::map<std::pair<int, int>, std::unique_ptr<kvscope::Session>> sessions;
    const std::pair<int, int> key{int(storage.element), storage.integer() ? storage.group_size : 0};
    std::unique_ptr<kvscope::Session>& slot = sessions[key];
    if (!slot) {
        kvscope::SessionOptions o;
        o.mode = kvscope::SessionMode::cached;
        o.cache.storage = storage;
        auto s = kvscope::Session::create(fixture_engine(), o);
        if (!s) std::abort();
        slot = std::move(s.value());
    }
    slot->reset();
    return *slot;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto parsed = kvscope::parse_cache_file(std::span<const uint8_t>(data, size), "fuzz.kvcache");
    kvscope::fuzz::check_error(parsed);
    if (!parsed) return 0;
    // What the reader accepted is whole: every layer's K and V hold n_kv_heads × tokens rows as stored.
    const kvscope::CacheFileContents& c = parsed.value();
    const size_t bytes =
        size_t(c.model.n_kv_heads) * c.tokens.size() * c.storage.bytes_per_row(int(c.model.head_dim));
    if (c.k.size() != c.model.n_layers || c.v.size() != c.model.n_layers) std::abort();
    for (size_t l = 0; l < c.k.size(); ++l)
        if (c.k[l].size() != bytes || c.v[l].size() != bytes) std::abort();
    kvscope::Session& session = fixture_session(c.storage);
    const auto restored = kvscope::restore_cache_file(session, c, "fuzz.kvcache");
    kvscope::fuzz::check_error(restored);
    if (restored && session.position() != int(c.tokens.size())) std::abort();
    return 0;
}
