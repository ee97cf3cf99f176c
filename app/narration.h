// narration.h — the explanation panel's text: what the selected step did, in plain words, with the live
// numbers of both runs (what was computed, appended, recomputed; what it cost; the KV size formula with
// this model's numbers). Written for someone who has read nothing about transformers.
// Returns a small HTML document (QTextBrowser's subset); pure: same store, same text.
#pragma once

#include <QString>

#include "theme.h"
#include "trace_store.h"

namespace kvscope::app {

QString narrate(const TraceStore& store, const Theme& theme, CompareMode mode);

}  // namespace kvscope::app
