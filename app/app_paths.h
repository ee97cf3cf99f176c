// app_paths.h — where the app finds its files: the embedded default model, in the build tree (the
// source's assets/models) or installed (share/kvscope/models beside the executable's prefix). The
// places themselves are core's (kvscope/default_model.h), shared with kvscope-cli.
#pragma once

#include <QString>
#include <QStringList>

#include "kvscope/default_model.h"

namespace kvscope::app {

using kvscope::kDefaultModelFile;

// The places the default model is looked for, in order.
QStringList defaultModelCandidates();
// The first candidate that exists, or an empty string.
QString defaultModelPath();

}  // namespace kvscope::app
