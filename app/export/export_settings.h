// export_settings.h — what to export, as the Export dialog and `kvscope export` both describe it: which
// view, which steps, at what size, how many frames a step, how fast, in which look — and the frame
// timeline that turns those settings into "frame i shows step s, t seconds after it arrived".
//
// Views: side-by-side (the whole layout, both runs), pane (one run: tokens, KV cache, attention,
// counters), kv-cache, attention (one head or all heads of a layer), counters, plots, tokens.
// Sizes: a preset (1080p 1920×1080, 720p 1280×720, square 1080×1080) or WIDTHxHEIGHT.
// Steps: step 0 is the prefill (the whole prompt at once), then one step per generated token.
// Nothing here draws or knows the renderers: the app maps these onto them (phase 2 of issue 5).
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <vector>

#include "export/export_format.h"
#include "kvscope/status.h"

namespace kvscope::app {

enum class ExportView {
    sideBySide,
    pane,
    kvCache,
    attention,
    counters,
    plots,
    tokens,
    scale,
    roofline,
    complexity,
    firstToken,
    conversations
};
QString viewName(ExportView view);  // "side-by-side", "kv-cache", …
QStringList viewNames();
Result<ExportView> parseView(const QString& name);

struct FirstTokenSweep;  // first_token_sweep.h
struct BlockMaps;        // views/block_map_renderer.h

struct SizePreset {
    const char* name;  // "1080p"
    QSize size;
    const char* label;  // "1920×1080 (16:9 slides)"
};
const std::vector<SizePreset>& sizePresets();
// "1080p", "720p", "square", or WIDTHxHEIGHT ("1920x1080", "1920×1080"); each side 1…8192.
Result<QSize> parseExportSize(const QString& text);

// What an export draws and where it writes it, as the Export dialog and `kvscope export` both fill it in.
struct ExportSettings {
    ExportFormat format = ExportFormat::mp4;
    QString out;         // the file (a folder for png-frames)
    bool force = false;  // replace `out` if it exists (the dialog asks first; the CLI needs --force)
    ExportView view = ExportView::sideBySide;
    bool uncachedRun = false;  // single-run views: which run (default: the cached one)
    int layer = 0;             // the layer kv-cache and attention show
    int head = 0;              // the attention head shown large…
    bool allHeads = false;     // …or every head of the layer as small multiples
    QSize size{1920, 1080};
    int fps = 30;
    int framesPerStep = 15;
    int firstStep = 0;
    int lastStep = -1;   // -1: the last step run
    int stillStep = -1;  // png, svg: the step drawn; -1: the last step
    QString theme = QStringLiteral("light");
    double fontScale = 1.0;
    QString title, caption;
    bool narrate = false;  // caption each frame with what its step did (the narration, a sentence or two)
    // Each step's arrival plays over its first frames (the new rows flash, the uncached run's sweep down
    // the rows it recomputed); off: every frame of a step is the finished picture.
    bool animate = true;
    // The scale view's choices, named as `kvscope-cli scale` takes them (kvscope/scale.h).
    QString scaleContext = QStringLiteral("128K");
    QString scaleWeights = QStringLiteral("bf16"), scaleKv = QStringLiteral("bf16");
    int scaleConversations = 1;
    QString scaleModel = QStringLiteral("Llama-3.1-70B");
    QString scaleAccelerator = QStringLiteral("NVIDIA H100 SXM");
    // The first-token view's measurements: the First token dock's (the dialog) or a sweep the command ran.
    std::shared_ptr<const FirstTokenSweep> firstTokenSweep;
    // The conversations view's memory maps: the Conversations dock's (the dialog, the lesson pack).
    std::shared_ptr<const BlockMaps> blockMaps;
};

// Frames of an export: steps firstStep…lastStep (inclusive), each shown for framesPerStep frames.
class FrameTimeline {
  public:
    // Steps must satisfy 0 ≤ first ≤ last < stepsAvailable; framesPerStep 1…600.
    static Result<FrameTimeline> make(int firstStep, int lastStep, int framesPerStep, int stepsAvailable);

    int frameCount() const { return (m_last - m_first + 1) * m_framesPerStep; }
    int firstStep() const { return m_first; }
    int lastStep() const { return m_last; }
    int framesPerStep() const { return m_framesPerStep; }
    // The step frame `frame` shows, and how long after that step arrived (for the views' animations:
    // a step's new row fades in over its frames), at `fps`.
    int stepAt(int frame) const { return m_first + frame / m_framesPerStep; }
    double secondsIntoStep(int frame, int fps) const { return double(frame % m_framesPerStep) / fps; }

  private:
    FrameTimeline(int first, int last, int perStep)
        : m_first(first), m_last(last), m_framesPerStep(perStep) {}
    int m_first = 0, m_last = 0, m_framesPerStep = 1;
};

// One progress line for a terminal: "encoding H.264: frame 12 of 64 (19%), 3.2 s left".
struct ExportProgress;
QString progressLine(const ExportProgress& progress);

}  // namespace kvscope::app
