#include "support/fixtures.h"

#include <QDir>
#include <cmath>
#include <cstring>

#include "model/formats/safetensors.h"

namespace kvscope::test {

std::string fixtures_dir() {
    const QString dir = QString::fromUtf8(KVSCOPE_FIXTURES_DIR);
    if (!QDir(dir).exists() || !QFile::exists(dir + "/README.md")) return {};
    return QDir(dir).canonicalPath().toStdString();
}

std::string fixtures_missing_message() {
    return std::string("reference fixtures not found at ") + KVSCOPE_FIXTURES_DIR +
           " (clone the project with ../shared beside it, or configure with -DKVSCOPE_FIXTURES_DIR=...)";
}

QStringList model_fixture_names() {
    return {"tiny-gpt2", "tiny-llama-gqa", "tiny-qwen2", "tiny-llama-bf16-sharded"};
}

std::string model_fixture_path(const QString& name) {
    return fixtures_dir() + "/" + name.toStdString();
}

namespace {

Result<FloatArray> float_tensor(const SafetensorsFile& f, const std::string& name) {
    const SafetensorsEntry* e = f.find(name);
    if (!e) return Status::error(f.path + ": no tensor '" + name + "'");
    if (e->dtype != "F32")
        return Status::error(f.path + ": tensor '" + name + "' is " + e->dtype + ", expected F32");
    FloatArray a;
    a.shape = e->shape;
    a.values.resize(e->nbytes / 4);
    std::memcpy(a.values.data(), e->data, e->nbytes);
    return a;
}

Result<std::vector<int32_t>> id_tensor(const SafetensorsFile& f, const std::string& name) {
    const SafetensorsEntry* e = f.find(name);
    if (!e) return Status::error(f.path + ": no tensor '" + name + "'");
    if (e->dtype != "I64")
        return Status::error(f.path + ": tensor '" + name + "' is " + e->dtype + ", expected I64");
    std::vector<int32_t> ids(e->nbytes / 8);
    for (size_t i = 0; i < ids.size(); ++i) {
        int64_t v;
        std::memcpy(&v, e->data + 8 * i, 8);
        ids[i] = static_cast<int32_t>(v);
    }
    return ids;
}

}  // namespace

Result<Reference> load_reference(const std::string& model_dir) {
    auto file = open_safetensors(model_dir + "/reference.safetensors");
    if (!file) return file.status();
    Reference r;
#define TAKE(field, expr)                \
    do {                                 \
        auto v_ = (expr);                \
        if (!v_) return v_.status();     \
        r.field = std::move(v_.value()); \
    } while (0)
    TAKE(input_ids, id_tensor(*file, "input_ids"));
    TAKE(generated, id_tensor(*file, "generated"));
    TAKE(logits, float_tensor(*file, "logits"));
    TAKE(gen_logits, float_tensor(*file, "gen_logits"));
#undef TAKE
    for (int l = 0;; ++l) {
        const std::string p = std::to_string(l);
        if (!file->find("attn." + p)) break;
        auto a = float_tensor(*file, "attn." + p);
        auto k = float_tensor(*file, "cache." + p + ".key");
        auto v = float_tensor(*file, "cache." + p + ".value");
        if (!a || !k || !v) return Status::error(model_dir + ": reference for layer " + p + " is incomplete");
        r.attention.push_back(std::move(a.value()));
        r.cache_key.push_back(std::move(k.value()));
        r.cache_value.push_back(std::move(v.value()));
    }
    return r;
}

float max_abs_diff(const float* a, const float* b, size_t n) {
    float m = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float d = std::fabs(a[i] - b[i]);
        if (!(d <= m)) m = d;  // NaN propagates as a failure
    }
    return m;
}

}  // namespace kvscope::test
