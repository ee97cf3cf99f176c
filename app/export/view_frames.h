// view_frames.h — an export's frames, drawn by the app's own renderers from a run's history.
//
// ExportHistory is what an export draws from: a model and both runs' steps (the immutable StepTraces the
// engine produced), taken from the window's TraceStore or from a headless run. ViewFrames replays it into
// a TraceStore of its own, step by step as the frames advance, so every frame shows the store exactly as
// the window showed it when that step had just arrived (plots and token strip up to that step, the KV
// cache one row longer per step), and draws it with the OffscreenRenderer at the export's resolution.
// Going back (a GIF's second pass, a preview) replays from the first step again, so a frame's pixels do
// not depend on the order frames are asked for.
//
// Deterministic: the same history and settings give the same pixels, except the numbers that are wall
// times (counters, the time plots), which the engine measured and which differ from run to run.
//
// Lives on the GUI thread (Dear ImGui's context is process-wide): the encoders of an export run on a
// worker thread and reach it through ForwardedFrames.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "export/export_settings.h"
#include "export/frame_source.h"
#include "gl/offscreen_renderer.h"
#include "theme.h"
#include "trace_store.h"

namespace kvscope::app {

class SlideRenderer;

struct ExportHistory {
    ModelInfo model;
    std::array<std::vector<TraceStore::Step>, kSideCount> steps;

    static ExportHistory of(const TraceStore& store);
    int stepCount() const;  // the longer run's (race mode may leave one behind)
};

// The settings with the steps resolved against the history (lastStep and stillStep -1 become the last
// step) and everything checked that needs the model: the steps exist, the layer and head exist, the
// theme is known, an SVG shows heatmaps. Errors say what the run has.
// Whether a view draws heatmaps, and so can be written as SVG.
bool viewDrawsHeatmaps(ExportView view);
Result<ExportSettings> resolveExportSettings(const ExportSettings& settings, const ExportHistory& history);
// The layer and head the settings show exist in a model of this shape (`kvscope export` asks as soon as
// the model is loaded, before any step runs).
Status validateLayerAndHead(const ExportSettings& settings, const ModelConfig& config);

// Pixels per design unit of an export: the app's look at 1280×720, scaled with the frame's area, times
// the theme's type scale and the font scale asked for.
float exportPixelScale(const ExportSettings& settings);

class ViewFrames : public FrameSource {
  public:
    // `settings` must come from resolveExportSettings. Animated formats get every step from first to
    // last, framesPerStep frames each; stills (png, svg) one frame of stillStep. Makes the OpenGL context.
    static Result<std::unique_ptr<ViewFrames>> create(ExportHistory history, const ExportSettings& settings);
    ~ViewFrames() override;

    int frameCount() const override { return m_timeline.frameCount(); }
    QSize frameSize() const override { return m_settings.size; }
    Result<QImage> renderFrame(int index) override;

    const FrameTimeline& timeline() const { return m_timeline; }
    const ExportSettings& settings() const { return m_settings; }
    // The store as the last frame was drawn from, and the view inside the slide (tests read geometry
    // and textures from them).
    TraceStore& store() { return m_store; }
    ViewRenderer& content();
    OffscreenRenderer& offscreen() { return m_offscreen; }
    int framesDrawn() const { return m_drawn; }  // frames drawn; the others repeated a finished one
    // The caption drawn from the next frame on (a lesson's captions follow its pages); large: in the
    // title's type, for captions that carry the story.
    void setCaption(const QString& caption, bool large = false);

  private:
    ViewFrames(ExportHistory history, const ExportSettings& settings, FrameTimeline timeline);
    void showStep(int step);

    ExportHistory m_history;
    ExportSettings m_settings;
    FrameTimeline m_timeline;
    ThemeKind m_theme = ThemeKind::light;
    TraceStore m_store;
    OffscreenRenderer m_offscreen;
    std::unique_ptr<SlideRenderer> m_renderer;
    // The last frame drawn: repeated while its step stays and its animations had finished.
    QImage m_last;
    int m_lastStep = -1;
    double m_lastAge = 0;
    bool m_lastAnimating = true;
    int m_drawn = 0;
};

}  // namespace kvscope::app
