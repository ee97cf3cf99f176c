// prompt_parser.h — what the prompt box means, as token ids, or a message saying what is wrong with it.
//
// A model with a tokenizer takes text (encoded as its home library would, BOS included when the model
// wants one). A model without one (the test fixtures, a bare llama2.c checkpoint) takes token ids typed
// as numbers separated by commas or spaces ("1, 15, 27", "#1 #15" as the token strip shows them).
// Either way the prompt must leave room for at least one generated token in `capacity`.
#pragma once

#include <QString>
#include <cstdint>
#include <vector>

#include "kvscope/status.h"
#include "kvscope/tokenizer.h"

namespace kvscope::app {

struct PromptRules {
    const Tokenizer* tokenizer = nullptr;  // null: the prompt is token ids
    int vocabSize = 0;
    int capacity = 0;  // tokens a run may hold
};

Result<std::vector<int32_t>> parsePrompt(const QString& text, const PromptRules& rules);

// What the prompt box says when it is empty (the placeholder).
QString promptHint(const PromptRules& rules);

}  // namespace kvscope::app
