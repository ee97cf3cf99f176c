#include "export/view_frames.h"

#include <QSettings>
#include <cmath>
#include <thread>

#include "export/export_io.h"
#include "views/block_map_renderer.h"
#include "views/complexity_renderer.h"
#include "views/first_token_renderer.h"
#include "views/layout_renderer.h"
#include "views/roofline_renderer.h"
#include "views/scale_renderer.h"
#include "views/slide_renderer.h"

namespace kvscope::app {
namespace {

// This machine's roofs for the roofline view, for the thread count the export's run steps with: as the app
// keeps them in its settings, or measured now (a few seconds) when it never has.
MachinePeaks exportPeaks() {
    MachinePeaks peaks;
    QSettings settings;
    if (StoredPeaks::read(settings, &peaks, StoredPeaks::runsDevice())) return peaks;
    if (auto m = StoredPeaks::measureForRuns()) {
        peaks = m.value();
        StoredPeaks::write(settings, peaks);
    }
    return peaks;
}

std::unique_ptr<SlideRenderer> makeSlide(const ExportSettings& s) {
    const Side side = s.uncachedRun ? Side::uncached : Side::cached;
    std::unique_ptr<ViewRenderer> content;
    auto backdrop = SlideRenderer::Backdrop::panel;
    switch (s.view) {
        case ExportView::sideBySide:
            content = std::make_unique<LayoutRenderer>();
            backdrop = SlideRenderer::Backdrop::none;
            break;
        case ExportView::pane:
            content = std::make_unique<PaneRenderer>(side);
            backdrop = SlideRenderer::Backdrop::margin;
            break;
        case ExportView::kvCache:
            content = std::make_unique<KvCacheRenderer>(side);
            break;
        case ExportView::attention:
            content = std::make_unique<AttentionRenderer>(side);
            break;
        case ExportView::counters:
            content = std::make_unique<CountersRenderer>(side);
            break;
        case ExportView::plots:
            content = std::make_unique<PlotsRenderer>();
            break;
        case ExportView::tokens:
            content = std::make_unique<TokenStripRenderer>(side);
            break;
        case ExportView::scale: {
            ScaleSettings scale;
            scale.context = parse_token_count(s.scaleContext.toStdString()).value_or(scale.context);
            scale.weights = parse_precision(s.scaleWeights.toStdString()).value_or(scale.weights);
            scale.kv = parse_precision(s.scaleKv.toStdString()).value_or(scale.kv);
            scale.conversations = s.scaleConversations;
            scale.model = s.scaleModel;
            scale.accelerator = s.scaleAccelerator;
            content = std::make_unique<ScaleRenderer>(scale);
            break;
        }
        case ExportView::roofline:
            content = std::make_unique<RooflineRenderer>(exportPeaks());
            break;
        case ExportView::complexity:
            content = std::make_unique<ComplexityRenderer>();
            break;
        case ExportView::firstToken:
            content = std::make_unique<FirstTokenRenderer>(s.firstTokenSweep);
            break;
        case ExportView::conversations:
            content = std::make_unique<BlockMapRenderer>(s.blockMaps);
            break;
    }
    return std::make_unique<SlideRenderer>(std::move(content), side, backdrop, s.title, s.caption, s.narrate);
}

}  // namespace

bool viewDrawsHeatmaps(ExportView view) {
    return view == ExportView::sideBySide || view == ExportView::pane || view == ExportView::kvCache ||
           view == ExportView::attention;
}

ExportHistory ExportHistory::of(const TraceStore& store) {
    ExportHistory h;
    h.model = store.model();
    for (Side side : kSides)
        h.steps[size_t(sideIndex(side))] = store.steps(side);
    return h;
}

int ExportHistory::stepCount() const {
    return int(std::max(steps[0].size(), steps[1].size()));
}

Status validateLayerAndHead(const ExportSettings& s, const ModelConfig& c) {
    if (s.layer < 0 || s.layer >= c.n_layers)
        return exportFailure(
            QStringLiteral("layer %1: the model has layers 0 to %2").arg(s.layer).arg(c.n_layers - 1));
    if (!s.allHeads && (s.head < 0 || s.head >= c.n_heads))
        return exportFailure(
            QStringLiteral("head %1: the model has heads 0 to %2").arg(s.head).arg(c.n_heads - 1));
    return Status::ok();
}

Result<ExportSettings> resolveExportSettings(const ExportSettings& settings, const ExportHistory& history) {
    ExportSettings s = settings;
    if (!history.model.valid()) return exportFailure(QStringLiteral("nothing to export: no model is loaded"));
    const int steps = history.stepCount();
    if (steps < 1)
        return exportFailure(QStringLiteral("nothing to export: no steps have been run (press Step first)"));
    if (s.lastStep < 0) s.lastStep = steps - 1;
    if (s.stillStep < 0) s.stillStep = s.lastStep;
    if (isAnimation(s.format)) KVSCOPE_TRY(FrameTimeline::make(s.firstStep, s.lastStep, 1, steps).status());
    if (s.stillStep >= steps)
        return exportFailure(
            QStringLiteral("step %1 asked for a still: the run has steps 0 (the prefill) to %2")
                .arg(s.stillStep)
                .arg(steps - 1));
    KVSCOPE_TRY(validateLayerAndHead(s, history.model.config()));
    ThemeKind theme;
    if (!parseThemeKind(s.theme, &theme))
        return exportFailure(QStringLiteral("theme '%1': use light, dark or projector").arg(s.theme));
    if (s.format == ExportFormat::svg && !viewDrawsHeatmaps(s.view))
        return exportFailure(QStringLiteral("an SVG draws heatmaps: the %1 view has none (use side-by-side, "
                                            "pane, kv-cache or attention, or a PNG)")
                                 .arg(viewName(s.view)));
    // Views drawn from what a dock measured (the counters, CSV or JSON, draw no view and need none).
    const bool draws = s.format != ExportFormat::csv && s.format != ExportFormat::json;
    if (draws && s.view == ExportView::firstToken && (!s.firstTokenSweep || s.firstTokenSweep->rows.empty()))
        return exportFailure(
            QStringLiteral("the first-token view has nothing measured yet: press Measure in "
                           "View ▸ First token first"));
    if (draws && s.view == ExportView::conversations && (!s.blockMaps || !s.blockMaps->snapshot))
        return exportFailure(
            QStringLiteral("the conversations view has not run yet: press Run conversations "
                           "in View ▸ Conversations first"));
    if (!(s.fontScale > 0)) return exportFailure(QStringLiteral("the font scale must be positive"));
    if (draws) KVSCOPE_TRY(validateFrameSize(s.format, s.size));
    if (isAnimation(s.format)) KVSCOPE_TRY(validateFps(s.format, s.fps));
    return s;
}

float exportPixelScale(const ExportSettings& s) {
    ThemeKind kind = ThemeKind::light;
    parseThemeKind(s.theme, &kind);
    // A frame is laid out as the app's window at 1280×720 and scaled to the output: a 720p GIF has the
    // app's own text size (small text 12.5 px, not 8), a 1080p video half as large again, so the text keeps
    // its share of the picture on a slide, whatever size it is projected at.
    const double area = double(s.size.width()) * s.size.height() / (1280.0 * 720.0);
    return float(s.fontScale * std::sqrt(area)) * themeFor(kind).typeScale;
}

ViewFrames::ViewFrames(ExportHistory history, const ExportSettings& settings, FrameTimeline timeline)
    : m_history(std::move(history)), m_settings(settings), m_timeline(timeline) {}

Result<std::unique_ptr<ViewFrames>> ViewFrames::create(ExportHistory history, const ExportSettings& s) {
    const bool still = !isAnimation(s.format);
    Result<FrameTimeline> timeline =
        still ? FrameTimeline::make(s.stillStep, s.stillStep, 1, history.stepCount())
              : FrameTimeline::make(s.firstStep, s.lastStep, s.framesPerStep, history.stepCount());
    if (!timeline) return timeline.status();
    std::unique_ptr<ViewFrames> frames(new ViewFrames(std::move(history), s, *timeline));
    parseThemeKind(s.theme, &frames->m_theme);
    KVSCOPE_TRY(frames->m_offscreen.create(s.size));
    frames->m_offscreen.end();
    frames->m_store.setModel(frames->m_history.model);
    frames->m_store.selectLayer(s.layer);
    frames->m_store.selectHead(s.head);
    frames->m_store.setAllHeads(s.allHeads);
    frames->m_renderer = makeSlide(s);
    return frames;
}

ViewFrames::~ViewFrames() {
    if (m_renderer) m_offscreen.release(*m_renderer);
}

ViewRenderer& ViewFrames::content() {
    return m_renderer->content();
}

void ViewFrames::setCaption(const QString& caption, bool large) {
    if (caption == m_renderer->caption() && large == m_renderer->largeCaption()) return;
    m_renderer->setCaption(caption, large);
    m_last = QImage();  // the finished picture of this step had the old caption
}

void ViewFrames::showStep(int step) {
    int have = m_store.maxStepCount();
    if (have > step + 1) {
        // Back in time: replay from the start, so the renderers upload the same rows in the same order
        // as they did going forward, and the pixels do not depend on the way the frame was reached.
        m_store.clear();
        have = 0;
    }
    for (int i = have; i <= step; ++i)
        for (Side side : kSides) {
            const auto& steps = m_history.steps[size_t(sideIndex(side))];
            if (i < int(steps.size()))
                m_store.append(side, steps[size_t(i)].trace, steps[size_t(i)].maxLogitDiff);
        }
}

Result<QImage> ViewFrames::renderFrame(int index) {
    if (index < 0 || index >= frameCount())
        return exportFailure(QStringLiteral("frame %1 of a clip of %2").arg(index).arg(frameCount()));
    const int step = m_timeline.stepAt(index);
    const bool still = !isAnimation(m_settings.format);
    const double age =
        m_settings.animate && !still ? m_timeline.secondsIntoStep(index, m_settings.fps) : -1.0;
    // A later frame of the same step, once its animations have finished, is the same picture.
    if (!m_last.isNull() && step == m_lastStep && !m_lastAnimating && age >= m_lastAge) return m_last;
    showStep(step);
    OffscreenOptions o;
    o.theme = m_theme;
    o.scale = exportPixelScale(m_settings);
    o.side = m_settings.uncachedRun ? Side::uncached : Side::cached;
    o.time = double(index) / m_settings.fps;
    o.stepAge = age;
    Result<QImage> image = m_offscreen.render(*m_renderer, m_store, o);
    m_offscreen.end();
    if (!image) return image;
    ++m_drawn;
    m_last = *image;
    m_lastStep = step;
    m_lastAge = age;
    m_lastAnimating = age >= 0 && m_renderer->animating();
    return image;
}

}  // namespace kvscope::app
