// device_weights.cpp — places a model's weights in a backend's memory: used in place on the host, uploaded
// once (one stream, synchronized at the end) on a GPU.
#include "engine/device_weights.h"

#include <map>

namespace kvscope {

Result<std::unique_ptr<DeviceWeights>> upload_weights(const Model& model, Backend& backend) {
    auto w = std::make_unique<DeviceWeights>();
    std::unique_ptr<Stream> stream = backend.host_memory() ? nullptr : backend.make_stream();
    std::map<const float*, const float*> uploaded;  // host data -> device data (tied tensors once)

    auto place = [&](DeviceTensor& dt, const Tensor& t) -> Status {
        dt.host = &t;
        if (t.empty()) return Status::ok();
        if (backend.host_memory()) {
            dt.data = t.data();
            dt.in_out = t.in_out;
            return Status::ok();
        }
        if (auto it = uploaded.find(t.data()); it != uploaded.end()) {
            dt.data = it->second;
            return Status::ok();
        }
        auto buf = backend.allocate(size_t(t.numel()));
        if (!buf) return buf.status().with_context("uploading tensor '" + t.name + "'");
        if (t.in_out) {
            // The device keeps one layout, [out, in], for its matrix-vector kernel. upload() copies the host
            // data before it returns, so the transposed copy may go right after.
            const std::vector<float> rows = t.row_major_values();
            stream->upload(buf.value()->data(), rows.data(), rows.size());
        } else {
            stream->upload(buf.value()->data(), t.data(), size_t(t.numel()));
        }
        dt.data = buf.value()->data();
        uploaded[t.data()] = dt.data;
        w->bytes += uint64_t(t.numel()) * sizeof(float);
        w->owned.push_back(std::move(buf.value()));
        return Status::ok();
    };

    KVSCOPE_TRY(place(w->tok_embd, model.tok_embd));
    KVSCOPE_TRY(place(w->pos_embd, model.pos_embd));
    KVSCOPE_TRY(place(w->out_norm, model.out_norm));
    KVSCOPE_TRY(place(w->out_norm_bias, model.out_norm_bias));
    KVSCOPE_TRY(place(w->lm_head, model.lm_head));
    w->layers.resize(model.layers.size());
    for (size_t i = 0; i < model.layers.size(); ++i) {
        const LayerWeights& L = model.layers[i];
        DeviceLayer& D = w->layers[i];
        KVSCOPE_TRY(place(D.attn_norm, L.attn_norm));
        KVSCOPE_TRY(place(D.attn_norm_bias, L.attn_norm_bias));
        KVSCOPE_TRY(place(D.wqkv, L.wqkv));
        KVSCOPE_TRY(place(D.bqkv, L.bqkv));
        KVSCOPE_TRY(place(D.wo, L.wo));
        KVSCOPE_TRY(place(D.bo, L.bo));
        KVSCOPE_TRY(place(D.ffn_norm, L.ffn_norm));
        KVSCOPE_TRY(place(D.ffn_norm_bias, L.ffn_norm_bias));
        KVSCOPE_TRY(place(D.w_gate, L.w_gate));
        KVSCOPE_TRY(place(D.w_up, L.w_up));
        KVSCOPE_TRY(place(D.b_up, L.b_up));
        KVSCOPE_TRY(place(D.w_down, L.w_down));
        KVSCOPE_TRY(place(D.b_down, L.b_down));
    }
    if (stream) {
        stream->synchronize();
        KVSCOPE_TRY(stream->error().with_context("uploading the weights"));
    }
    return w;
}

}  // namespace kvscope
