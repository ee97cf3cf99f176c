// imgui_qt_input.h — the bridge from Qt's input events to Dear ImGui 1.86's input state.
//
// Qt delivers events between frames; ImGui reads its state once per frame. The bridge keeps what
// arrived (mouse position in framebuffer pixels, buttons, wheel, keys, typed text) and hands it over in
// apply() at the start of a frame. A press and release that both land between two frames still shows
// the button down for one frame, so quick clicks are never lost.
#pragma once

#include <QPointF>
#include <QString>
#include <Qt>
#include <array>

struct ImGuiIO;

namespace kvscope::app {

class ImGuiQtInput {
  public:
    // Positions are in the widget's logical pixels; dpr turns them into framebuffer pixels.
    void mouseMove(QPointF logical, qreal dpr);
    void mouseButton(Qt::MouseButton button, bool down);
    void wheel(QPoint angleDelta);  // Qt's eighths of a degree; 120 per notch
    void key(int qtKey, Qt::KeyboardModifiers modifiers, bool down);
    void text(const QString& text);
    void leave();     // the pointer left the view: no hover
    void focusOut();  // release every button and key

    bool hovering() const { return m_inside; }
    QPointF mousePixels() const { return m_mouse; }

    // Copies the pending state into `io`; call right before ImGui::NewFrame(). The first call also fills
    // io.KeyMap.
    void apply(ImGuiIO& io);

    static int keyIndex(int qtKey);  // slot in io.KeysDown[512], or -1

  private:
    QPointF m_mouse{-1e30, -1e30};
    bool m_inside = false;
    std::array<bool, 3> m_down{}, m_pressedSinceFrame{};
    float m_wheelX = 0, m_wheelY = 0;
    std::array<bool, 512> m_keys{};
    Qt::KeyboardModifiers m_modifiers;
    QString m_text;
};

}  // namespace kvscope::app
