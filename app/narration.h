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

// The selected step in one or two plain sentences, for an exported frame's caption ("Step 12: the
// cached run computed K and V for 1 new token (3.8 MFLOP); the uncached run recomputed all 27 tokens
// (147 MFLOP, 39× the work)"). Comparisons are made at the same sequence length.
QString stepCaption(const TraceStore& store);

}  // namespace kvscope::app
