// imgui_layer.h — one Dear ImGui context drawing into one OpenGL context: fonts, style, the OpenGL 3
// backend of libimgui, the input bridge, and deferred GL drawing.
//
// Everything is in framebuffer pixels (io.DisplaySize is the framebuffer size): views lay themselves out
// in pixels scaled by pixelScale() (device pixel ratio × font scale), which is also how the offscreen
// renderer draws at any export resolution. Text is DejaVu Sans from the app's resources, rasterized once
// per pixel scale into an atlas every context of that scale shares, with one GL texture per share group.
//
// Deferred GL drawing: views draw heatmaps with their own shaders *inside* ImGui's draw order (after a
// panel's background, before its labels) by adding a callback to a draw list (addGlDraw); the callback
// runs during render() with the clip rectangle of that point, and ImGui's GL state is restored after.
#pragma once

#include <QSize>
#include <deque>
#include <functional>
#include <memory>

#include "gl/imgui_qt_input.h"
#include "theme.h"

struct ImGuiContext;
struct ImFont;
struct ImDrawList;
struct ImVec4;

namespace kvscope::app {

enum class FontRole { body, small, bold, heading, mono, count };

class ImGuiLayer {
  public:
    struct SharedFonts;  // a font atlas shared by the contexts of one pixel scale (imgui_layer.cpp)

    ImGuiLayer();
    ~ImGuiLayer();
    // Starts rasterizing the font atlas of `pixelScale` on a thread of its own, so that the first view to
    // start (on this thread) finds it ready: at start-up the window builds its widgets meanwhile. A scale
    // nobody uses is dropped when its atlas is not taken.
    static void prepareFonts(float pixelScale);
    ImGuiLayer(const ImGuiLayer&) = delete;
    ImGuiLayer& operator=(const ImGuiLayer&) = delete;

    // With the GL context current.
    bool initialize(float pixelScale, const Theme& theme);
    void release();
    bool ready() const { return m_context != nullptr; }

    // Rebuilds the font atlas when the scale changes and restyles for the theme (GL context current).
    void setStyle(float pixelScale, const Theme& theme);
    float pixelScale() const { return m_pixelScale; }

    // A frame: makes this ImGui context current, applies pending input, starts the frame.
    void beginFrame(QSize framebufferPixels, double deltaSeconds);
    // Ends the frame and draws it (and the deferred GL drawing) into the bound framebuffer.
    void endFrame();

    ImFont* font(FontRole role) const { return m_fonts[int(role)]; }
    ImGuiQtInput& input() { return m_input; }
    ImGuiContext* context() const { return m_context; }
    void makeCurrent() const;

    // Runs `draw(clipRect)` at this point of `list` during endFrame(); clipRect is x0, y0, x1, y1 in
    // framebuffer pixels (y down). `draw` must leave the GL state as it found it apart from program,
    // vertex array, textures and scissor, which ImGui resets after it.
    void addGlDraw(ImDrawList* list, std::function<void(const ImVec4& clipRect)> draw);

  private:
    // Points this context at the shared atlas of `pixelScale` and uploads its own font texture.
    void useFonts(float pixelScale);
    void dropFonts();  // lets go of the atlas (deleting a texture no other context uses)
    ImGuiContext* m_context = nullptr;
    std::shared_ptr<SharedFonts> m_fontShare;
    unsigned int m_fontTexture = 0;  // the GL texture this context draws the atlas from
    bool m_ownsTexture = false;      // made for this context alone (it shares no group with the atlas's)
    bool m_deviceObjects = false;    // the OpenGL backend's shader and buffers exist
    ImFont* m_fonts[int(FontRole::count)] = {};
    float m_pixelScale = 1.0f;
    int m_themeKind = -1;
    ImGuiQtInput m_input;
    std::deque<std::function<void(const ImVec4&)>> m_glDraws;  // deque: stable addresses for callbacks
};

}  // namespace kvscope::app
