// view_renderer.h — the interface every view's drawing implements, and the state a frame is drawn from.
//
// A renderer draws one view (KV cache, attention, token strip, counters, plots) into whatever OpenGL
// framebuffer is current, inside a rectangle, at a pixel scale and theme, from the TraceStore at its
// selected step. It knows nothing of widgets: a GlView (a QOpenGLWidget) hosts one on screen, the
// LayoutRenderer places several in one framebuffer, and the offscreen renderer draws that for export
// and tests. Given the same store, selection, theme, scale and animation time, a frame is the same.
//
// Drawing goes through ImGui's draw lists (panels, text, lines) and, for heatmaps, through GL draws
// queued into the same draw order (ImGuiLayer::addGlDraw). Texture uploads happen in render(), with
// the GL context current.
#pragma once

#include <imgui.h>
#include <QColor>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

#include "format.h"
#include "gl/gl_resources.h"
#include "gl/imgui_layer.h"
#include "theme.h"
#include "trace_store.h"

namespace kvscope::app {

// What a frame wants shown as its hover tooltip (the host shows it as a window of its own: FloatingTip).
struct TooltipRequest {
    QStringList lines;
    QColor accent;
};

// What a frame had to compromise, for the layout checks (tests): text it cut with "…" or that ran past
// its clip rectangle, and parts it drew below their minimum readable size. The drawing helpers write to
// the report set for the thread (setLayoutReport); none is set outside tests and checks.
struct LayoutReport {
    struct Cut {
        QString text;
        float needed = 0, available = 0;  // pixels
    };
    std::vector<Cut> cuts;
    QStringList tooSmall;
    void clear() {
        cuts.clear();
        tooSmall.clear();
    }
};
// Sets the report the drawing helpers write to on this thread (null: none); returns the previous one.
LayoutReport* setLayoutReport(LayoutReport* report);
// A part of a view drawn at `size` pixels where it needs `minimum` to be read (noted in the report).
void reportTooSmall(const QString& what, float size, float minimum);

struct FrameContext {
    FrameContext(TraceStore& s, const Theme& t, GlResources& g, ImGuiLayer& i)
        : store(s), theme(t), gl(g), imgui(i) {}
    TraceStore& store;  // non-const: a click may change the selection (interactive frames only)
    const Theme& theme;
    GlResources& gl;
    ImGuiLayer& imgui;
    Side side = Side::cached;
    QRectF rect;         // where to draw, in framebuffer pixels (origin top left)
    QSize framebuffer;   // the whole framebuffer, in pixels
    float scale = 1.0f;  // pixels per design unit: device pixel ratio × font scale
    double time = 0.0;   // seconds, for animations
    // Seconds since the selected step arrived when the host knows it (an export's timeline: animations
    // play over the step's frames, the same every time); < 0: on screen, renderers time arrivals
    // themselves, and offscreen (not interactive) every animation has finished.
    double stepAge = -1.0;
    bool interactive = true;  // hover tooltips and clicks (false when rendering offscreen)
    // On screen: where showTooltip() puts the tooltip for the host to show whole, outside the view's
    // surface. Null: ImGui draws it inside the framebuffer.
    TooltipRequest* tooltip = nullptr;

    float px(float designUnits) const { return designUnits * scale; }
    ImVec2 topLeft() const { return ImVec2(float(rect.left()), float(rect.top())); }
    ImVec2 bottomRight() const { return ImVec2(float(rect.right()), float(rect.bottom())); }
};

class ViewRenderer {
  public:
    virtual ~ViewRenderer() = default;
    virtual const char* name() const = 0;
    // GL objects: made with the context current, freed the same way.
    virtual void initializeGL(GlResources&) {}
    virtual void releaseGL(GlResources&) {}
    virtual void render(FrameContext& frame) = 0;
    // Whether a change of the store alters this view (its host repaints only then).
    virtual bool affectedBy(const StoreChange&, Side) const { return true; }
    // Whether the last frame was mid-animation and wants another one soon.
    virtual bool animating() const { return false; }
};

// ---- drawing helpers shared by the renderers -------------------------------------------------------------
ImU32 imColor(const QColor& c, float alphaScale = 1.0f);
ImVec4 imVec4(const QColor& c);
// Text at a position, in a font, clipped by the current clip rect. Returns the size it took.
ImVec2 drawText(ImDrawList* dl, ImFont* font, ImVec2 pos, const QColor& colour, const QString& text);
ImVec2 textSize(ImFont* font, const QString& text);
// Text cut with "…" to fit a width. A cut is a layout fault (noted in the report) unless `expected`: token
// labels and other text where a shortened form is the design.
QString elide(ImFont* font, const QString& text, float width, bool expected = false);
// Text wrapped at spaces to `width`, line under line; returns the height it takes. With dl null it only
// measures.
float drawWrapped(ImDrawList* dl, ImFont* font, ImVec2 pos, float width, const QColor& colour,
                  const QString& text, float lineGap = 1.0f);
// Draws a rectangle with a 1-pixel border.
void drawPanel(ImDrawList* dl, ImVec2 a, ImVec2 b, const QColor& fill, const QColor& border, float rounding);
// A tooltip with lines of text; the first line in bold.
void showTooltip(const FrameContext& frame, const QStringList& lines, const QColor& accent = QColor());
// A message centred in the rectangle (nothing to show yet); below `top` when given (a header drawn above
// it: a short view must not write the message over its own buttons).
void drawCentredMessage(FrameContext& frame, const QString& title, const QString& detail, float top = -1.0f);
bool mouseIn(const FrameContext& frame, ImVec2 a, ImVec2 b);
// A log y axis: a grid line across [left, right] at each power of ten from 10^lyMin to 10^lyMax, labelled
// left of `left` in `font` by `format` (formatFlops, formatSeconds); `Y` maps a value to its pixel row.
void drawLogYGrid(const FrameContext& frame, ImDrawList* dl, ImFont* font, float left, float right,
                  double lyMin, double lyMax, const std::function<float(double)>& Y,
                  QString (*format)(double));

// How every view starts drawing: its draw list clipped to its rectangle, its fonts, the content margins,
// and its title at the top left (titleWidth says how much room it took). The clip is popped by close()
// (before hover tooltips, which may leave the rectangle) or when the panel goes.
class Panel {
  public:
    Panel(FrameContext& frame, const QString& title);
    ~Panel() { close(); }
    Panel(const Panel&) = delete;
    Panel& operator=(const Panel&) = delete;
    // A short note in small type beside the title, or below it (wrapped) when it does not fit there;
    // returns the height it added below the title line.
    float note(const QString& text, const QColor& colour) const;
    void close();

    FrameContext& frame;
    ImDrawList* dl;
    ImFont *bold, *body, *small, *mono;
    float x0, x1, y;  // content left and right edges; the top of the title line
    float titleWidth;

  private:
    bool m_open = true;
};

}  // namespace kvscope::app
