#include "model/formats/pytorch_pickle.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace kvscope {

std::optional<std::string> pytorch_pickle_kind(const uint8_t* data, uint64_t size) {
    if (size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0) {
        // torch.save's archive starts with its pickle, "<name>/data.pkl" (an other zip is no model either,
        // but not this one's business).
        const std::string_view head(reinterpret_cast<const char*>(data), std::min<uint64_t>(size, 4096));
        if (head.find("data.pkl") != std::string_view::npos) return std::string("a PyTorch checkpoint (zip)");
        return std::nullopt;
    }
    // A pickle stream opens with PROTO (0x80) and its protocol, then an opcode (never 0). A legacy llama2.c
    // header with dim 640 also starts 0x80 0x02 (then 0x00): callers ask only after the llama2.c sniffer.
    if (size >= 3 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5 && data[2] != 0)
        return "a pickle file (protocol " + std::to_string(data[1]) + ", PyTorch's legacy format)";
    return std::nullopt;
}

std::string pytorch_pickle_refusal(const std::string& path, const std::string& kind) {
    return path + ": " + kind +
           ": not loaded, because unpickling can run code; convert it to safetensors (in Python, with "
           "transformers: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, "
           "safe_serialization=True)) or to GGUF";
}

}  // namespace kvscope
