// scale_renderer.h — the "Scale up" view: the KV-cache formula applied to published model shapes (and the
// loaded model, always a row) at a context, precisions and number of concurrent conversations; weights vs
// KV on one bar per accelerator with the conversations that fit and the decode speed memory bandwidth
// allows; MHA vs GQA vs MLA (and an SSM's fixed state) side by side; the formulas with live numbers.
//
// It draws from a ScaleSettings the host owns (the dock's controls edit it; export fills it from the
// command line); clicking a model's row selects it. All figures come from core's kvscope/scale.h.
#pragma once

#include <functional>
#include <memory>

#include "scale_settings.h"
#include "views/view_renderer.h"

namespace kvscope::app {

class ScaleRenderer : public ViewRenderer {
  public:
    explicit ScaleRenderer(ScaleSettings* settings, std::function<void()> onEdited = {})
        : m_settings(settings), m_onEdited(std::move(onEdited)) {}
    // Export: a renderer with its own copy of the choices.
    explicit ScaleRenderer(const ScaleSettings& owned)
        : m_owned(std::make_unique<ScaleSettings>(owned)), m_settings(m_owned.get()) {}
    const char* name() const override { return "scale"; }
    void render(FrameContext& frame) override;
    // Only a new model changes it (its row); the controls repaint it themselves.
    bool affectedBy(const StoreChange& change, Side) const override;

    // The rows drawn: the catalog's models, then the loaded model (when there is one).
    static std::vector<ModelShape> rows(const ReferenceCatalog& catalog, const TraceStore& store);
    // One sentence per figure, with the live numbers (narration; also what a lesson can quote).
    static QStringList narration(const ScaleSettings& s, const ReferenceCatalog& catalog,
                                 const TraceStore& store);

  private:
    std::unique_ptr<ScaleSettings> m_owned;
    ScaleSettings* m_settings;
    std::function<void()> m_onEdited;
};

}  // namespace kvscope::app
