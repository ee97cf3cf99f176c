// pytorch_pickle.h — recognising PyTorch checkpoints (pytorch_model.bin, *.pt, *.pth, *.ckpt), which
// KVScope refuses to load.
//
// torch.save writes either a zip archive (since PyTorch 1.6: local file header "PK\x03\x04", entries
// "<name>/data.pkl", "<name>/data/0", ...) or, in the legacy format, a bare pickle stream (protocol 2 to 5:
// byte 0x80 then the protocol number). Either way the tensors are described by a pickle, and unpickling
// runs whatever code the pickle names: loading one would let a downloaded file run code on this machine.
// So these files are recognised by their first bytes and refused with a message that says why and what to
// do (convert to safetensors), instead of being misread as another format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kvscope {

// What the bytes look like ("a PyTorch zip checkpoint", "a pickle (protocol 2) file"), or nothing.
std::optional<std::string> pytorch_pickle_kind(const uint8_t* data, uint64_t size);

// The refusal, naming the file: "<path>: <kind>: not loaded, because unpickling can run code; ...".
std::string pytorch_pickle_refusal(const std::string& path, const std::string& kind);

}  // namespace kvscope
