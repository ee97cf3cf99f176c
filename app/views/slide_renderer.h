// slide_renderer.h — an exported frame: one view (or the side-by-side layout, or one run's pane) with an
// optional title above it and caption below it, as a slide wants them. The content is drawn by the same
// renderer the window uses; this only makes room for the text around it.
#pragma once

#include <memory>

#include "views/view_renderer.h"

namespace kvscope::app {

class SlideRenderer : public ViewRenderer {
  public:
    // What the content sits on: nothing (the side-by-side layout, which keeps its own margins), a margin
    // (a pane, which draws its own panels), or a panel with a margin (a single view, as in the window).
    enum class Backdrop { none, margin, panel };
    // `narrate`: the caption is each step's narration in a sentence or two (narration.h's stepCaption),
    // after `caption` if one is given.
    SlideRenderer(std::unique_ptr<ViewRenderer> content, Side side, Backdrop backdrop, QString title,
                  QString caption, bool narrate = false);
    const char* name() const override { return "slide"; }
    void releaseGL(GlResources& gl) override { m_content->releaseGL(gl); }
    void render(FrameContext& frame) override;
    bool animating() const override { return m_content->animating(); }

    ViewRenderer& content() { return *m_content; }
    // The caption from the next frame on (a lesson's captions change as the clip goes on). A caption too
    // long for one line wraps at spaces, onto up to three lines.
    // large: in the title's type (a lesson's captions carry its story).
    void setCaption(const QString& caption, bool large = false) {
        m_caption = caption;
        m_largeCaption = large;
    }
    const QString& caption() const { return m_caption; }
    bool largeCaption() const { return m_largeCaption; }

  private:
    std::unique_ptr<ViewRenderer> m_content;
    Side m_side;
    Backdrop m_backdrop;
    QString m_title, m_caption;
    bool m_narrate = false;
    bool m_largeCaption = false;
};

}  // namespace kvscope::app
