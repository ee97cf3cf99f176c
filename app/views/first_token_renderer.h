// first_token_renderer.h — the "First token" view: the pause before the first word. For prompts of
// growing length (kvscope/prompt_sweep.h, measured on the loaded model by the host), the time to the first
// token (the prefill of the whole prompt) and the time of each token after it (a decode step), on one
// chart against the prompt length; beside it, what they mean in words with the numbers measured.
#pragma once

#include <memory>

#include "first_token_sweep.h"
#include "views/view_renderer.h"

namespace kvscope::app {

class FirstTokenRenderer : public ViewRenderer {
  public:
    // `sweep`: what to draw; its owner may fill it in as rows arrive (on the thread that renders).
    explicit FirstTokenRenderer(std::shared_ptr<const FirstTokenSweep> sweep) : m_sweep(std::move(sweep)) {}
    const char* name() const override { return "first-token"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange& change, Side) const override;

    // The measured rows in words (the longest prompt's pause, the streaming after it, how the pause grows).
    static QStringList narration(const FirstTokenSweep& sweep);

  private:
    std::shared_ptr<const FirstTokenSweep> m_sweep;
};

}  // namespace kvscope::app
