#include "gl/imgui_qt_input.h"

#include <imgui.h>

namespace kvscope::app {

namespace {
int buttonIndex(Qt::MouseButton b) {
    switch (b) {
        case Qt::LeftButton:
            return 0;
        case Qt::RightButton:
            return 1;
        case Qt::MiddleButton:
            return 2;
        default:
            return -1;
    }
}
}  // namespace

int ImGuiQtInput::keyIndex(int qtKey) {
    if (qtKey >= 0 && qtKey < 256) return qtKey;                          // Latin-1 keys: their own code
    if ((qtKey & 0xff000000) == 0x01000000) return 256 + (qtKey & 0xff);  // Qt's special keys
    return -1;
}

void ImGuiQtInput::mouseMove(QPointF logical, qreal dpr) {
    m_mouse = logical * dpr;
    m_inside = true;
}

void ImGuiQtInput::mouseButton(Qt::MouseButton button, bool down) {
    const int i = buttonIndex(button);
    if (i < 0) return;
    m_down[size_t(i)] = down;
    if (down) m_pressedSinceFrame[size_t(i)] = true;
}

void ImGuiQtInput::wheel(QPoint angleDelta) {
    m_wheelX += float(angleDelta.x()) / 120.0f;
    m_wheelY += float(angleDelta.y()) / 120.0f;
}

void ImGuiQtInput::key(int qtKey, Qt::KeyboardModifiers modifiers, bool down) {
    m_modifiers = modifiers;
    const int i = keyIndex(qtKey);
    if (i >= 0) m_keys[size_t(i)] = down;
}

void ImGuiQtInput::text(const QString& text) {
    m_text += text;
}

void ImGuiQtInput::leave() {
    m_inside = false;
    m_mouse = QPointF(-1e30, -1e30);
}

void ImGuiQtInput::focusOut() {
    m_down.fill(false);
    m_keys.fill(false);
    m_modifiers = Qt::NoModifier;
}

void ImGuiQtInput::apply(ImGuiIO& io) {
    if (io.KeyMap[ImGuiKey_Tab] != keyIndex(Qt::Key_Tab)) {
        const std::pair<ImGuiKey_, int> map[] = {
            {ImGuiKey_Tab, Qt::Key_Tab},
            {ImGuiKey_LeftArrow, Qt::Key_Left},
            {ImGuiKey_RightArrow, Qt::Key_Right},
            {ImGuiKey_UpArrow, Qt::Key_Up},
            {ImGuiKey_DownArrow, Qt::Key_Down},
            {ImGuiKey_PageUp, Qt::Key_PageUp},
            {ImGuiKey_PageDown, Qt::Key_PageDown},
            {ImGuiKey_Home, Qt::Key_Home},
            {ImGuiKey_End, Qt::Key_End},
            {ImGuiKey_Insert, Qt::Key_Insert},
            {ImGuiKey_Delete, Qt::Key_Delete},
            {ImGuiKey_Backspace, Qt::Key_Backspace},
            {ImGuiKey_Space, Qt::Key_Space},
            {ImGuiKey_Enter, Qt::Key_Return},
            {ImGuiKey_Escape, Qt::Key_Escape},
            {ImGuiKey_KeyPadEnter, Qt::Key_Enter},
            {ImGuiKey_A, Qt::Key_A},
            {ImGuiKey_C, Qt::Key_C},
            {ImGuiKey_V, Qt::Key_V},
            {ImGuiKey_X, Qt::Key_X},
            {ImGuiKey_Y, Qt::Key_Y},
            {ImGuiKey_Z, Qt::Key_Z},
        };
        for (const auto& [imguiKey, qtKey] : map)
            io.KeyMap[imguiKey] = keyIndex(qtKey);
    }
    io.MousePos = m_inside ? ImVec2(float(m_mouse.x()), float(m_mouse.y())) : ImVec2(-FLT_MAX, -FLT_MAX);
    for (size_t i = 0; i < 3; ++i) {
        io.MouseDown[i] = m_down[i] || m_pressedSinceFrame[i];
        m_pressedSinceFrame[i] = false;
    }
    io.MouseWheel = m_wheelY;
    io.MouseWheelH = m_wheelX;
    m_wheelX = m_wheelY = 0;
    for (size_t i = 0; i < m_keys.size(); ++i)
        io.KeysDown[i] = m_keys[i];
    io.KeyCtrl = m_modifiers.testFlag(Qt::ControlModifier);
    io.KeyShift = m_modifiers.testFlag(Qt::ShiftModifier);
    io.KeyAlt = m_modifiers.testFlag(Qt::AltModifier);
    io.KeySuper = m_modifiers.testFlag(Qt::MetaModifier);
    if (!m_text.isEmpty()) {
        io.AddInputCharactersUTF8(m_text.toUtf8().constData());
        m_text.clear();
    }
}

}  // namespace kvscope::app
