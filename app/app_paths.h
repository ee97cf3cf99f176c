// app_paths.h — where the app finds its files: the embedded default model, in the build tree (the
// source's assets/models) or installed (share/kvscope/models beside the executable's prefix).
#pragma once

#include <QString>
#include <QStringList>

namespace kvscope::app {

// File name of the embedded default model (trained on Tiny Shakespeare, with its tokenizer).
inline constexpr const char* kDefaultModelFile = "kvscope-shakespeare.gguf";

// The places the default model is looked for, in order.
QStringList defaultModelCandidates();
// The first candidate that exists, or an empty string.
QString defaultModelPath();

}  // namespace kvscope::app
