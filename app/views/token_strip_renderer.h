// token_strip_renderer.h — the sequence of one run as a strip of token chips: the prompt in grey, the
// generated tokens in the run's colour, the tokens the selected step fed outlined, and the token it
// sampled next at the end. Hover shows a token's probability and the top-5 alternatives of its step.
// Text only: drawn entirely with ImGui.
#pragma once

#include <vector>

#include "views/view_renderer.h"

namespace kvscope::app {

class TokenStripRenderer : public ViewRenderer {
  public:
    explicit TokenStripRenderer(Side side) : m_side(side) {}
    const char* name() const override { return "token_strip"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side side) const override;

  private:
    struct Chip {
        ImVec2 a, b;
        int position = -1;  // -1: the sampled next token
        int32_t id = 0;
        QString text;
    };
    void drawHover(FrameContext& frame, const Chip& chip, int step);
    Side m_side;
    std::vector<Chip> m_chips;
};

}  // namespace kvscope::app
