#include "gl/imgui_layer.h"

#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <QFile>
#include <QHash>
#include <QOpenGLContext>
#include <cmath>

namespace kvscope::app {

namespace {

// The font files, read once from the resources and shared by every atlas (ImGui does not own them).
const QByteArray& fontData(const char* resource) {
    static QHash<QByteArray, QByteArray> cache;
    auto it = cache.find(resource);
    if (it == cache.end()) {
        QFile f(QString::fromLatin1(resource));
        QByteArray data;
        if (f.open(QIODevice::ReadOnly)) data = f.readAll();
        Q_ASSERT_X(!data.isEmpty(), "fontData",
                   "a font is missing from the resources (assets/fonts in app/CMakeLists.txt)");
        it = cache.insert(resource, data);
    }
    return it.value();
}

// Latin, Greek, the modifier letters of maths (ᵀ as in QKᵀ), punctuation, super/subscripts, arrows,
// maths, ␣ and the shapes the views use.
const ImWchar kGlyphRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x1D2C, 0x1D6A, 0x2000,
                                0x206F, 0x2070, 0x209F, 0x2190, 0x21FF, 0x2200, 0x22FF,
                                0x2423, 0x2423, 0x2500, 0x257F, 0x25A0, 0x25FF, 0};

ImVec4 vec(const QColor& c, float alpha = -1.0f) {
    return ImVec4(float(c.redF()), float(c.greenF()), float(c.blueF()),
                  alpha < 0 ? float(c.alphaF()) : alpha);
}

void runGlDraw(const ImDrawList*, const ImDrawCmd* cmd) {
    auto* draw = static_cast<std::function<void(const ImVec4&)>*>(cmd->UserCallbackData);
    (*draw)(cmd->ClipRect);
}

}  // namespace

ImGuiLayer::ImGuiLayer() = default;

ImGuiLayer::~ImGuiLayer() {
    Q_ASSERT_X(!m_context, "~ImGuiLayer", "release() must run with the GL context current first");
}

void ImGuiLayer::makeCurrent() const {
    ImGui::SetCurrentContext(m_context);
}

bool ImGuiLayer::initialize(float pixelScale, const Theme& theme) {
    IMGUI_CHECKVERSION();
    m_context = ImGui::CreateContext();
    ImGui::SetCurrentContext(m_context);
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // layout lives in QSettings, not in imgui.ini
    io.LogFilename = nullptr;
    io.ConfigFlags |= ImGuiConfigFlags_NoMouseCursorChange;
    io.BackendPlatformName = "kvscope-qt";
    m_pixelScale = 0.0f;
    if (!ImGui_ImplOpenGL3_Init("#version 330 core")) {
        ImGui::DestroyContext(m_context);
        m_context = nullptr;
        return false;
    }
    setStyle(pixelScale, theme);
    return true;
}

void ImGuiLayer::release() {
    if (!m_context) return;
    ImGui::SetCurrentContext(m_context);
    ImGui_ImplOpenGL3_Shutdown();
    ImGui::DestroyContext(m_context);
    m_context = nullptr;
}

void ImGuiLayer::buildFonts() {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    ImFontConfig config;
    config.FontDataOwnedByAtlas = false;
    config.OversampleH = 2;
    config.OversampleV = 1;
    config.PixelSnapH = false;
    struct Spec {
        FontRole role;
        const char* file;
        float size;
    };
    const Spec specs[] = {
        {FontRole::body, ":/fonts/DejaVuSans.ttf", 15.0f},
        {FontRole::small, ":/fonts/DejaVuSans.ttf", 12.5f},
        {FontRole::bold, ":/fonts/DejaVuSans-Bold.ttf", 15.0f},
        {FontRole::heading, ":/fonts/DejaVuSans-Bold.ttf", 19.0f},
        {FontRole::mono, ":/fonts/DejaVuSansMono.ttf", 14.0f},
    };
    for (const Spec& s : specs) {
        const QByteArray& data = fontData(s.file);
        m_fonts[int(s.role)] =
            io.Fonts->AddFontFromMemoryTTF(const_cast<char*>(data.constData()), int(data.size()),
                                           std::round(s.size * m_pixelScale), &config, kGlyphRanges);
    }
    io.FontDefault = m_fonts[int(FontRole::body)];
}

void ImGuiLayer::setStyle(float pixelScale, const Theme& theme) {
    ImGui::SetCurrentContext(m_context);
    pixelScale = std::max(0.5f, pixelScale);
    if (pixelScale != m_pixelScale) {
        m_pixelScale = pixelScale;
        buildFonts();
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
        m_themeKind = -1;
    }
    if (m_themeKind == int(theme.kind)) return;
    m_themeKind = int(theme.kind);
    ImGuiStyle style;
    theme.isDark() ? ImGui::StyleColorsDark(&style) : ImGui::StyleColorsLight(&style);
    style.WindowRounding = 6.0f;
    style.FrameRounding = 4.0f;
    style.PopupRounding = 6.0f;
    style.GrabRounding = 4.0f;
    style.WindowPadding = ImVec2(10, 8);
    style.FramePadding = ImVec2(7, 3);
    style.ItemSpacing = ImVec2(8, 5);
    style.WindowBorderSize = 1.0f;
    style.PopupBorderSize = 1.0f;
    style.AntiAliasedLines = true;
    style.AntiAliasedFill = true;
    style.ScaleAllSizes(m_pixelScale);
    ImVec4* c = style.Colors;
    c[ImGuiCol_Text] = vec(theme.text);
    c[ImGuiCol_TextDisabled] = vec(theme.textDim);
    c[ImGuiCol_WindowBg] = vec(theme.panel, 0.0f);
    c[ImGuiCol_PopupBg] = vec(theme.panelRaised, 0.97f);
    c[ImGuiCol_Border] = vec(theme.border);
    c[ImGuiCol_FrameBg] = vec(theme.panelRaised);
    c[ImGuiCol_FrameBgHovered] = vec(theme.border);
    c[ImGuiCol_Button] = vec(theme.panelRaised);
    c[ImGuiCol_ButtonHovered] = vec(theme.border);
    c[ImGuiCol_ButtonActive] = vec(theme.accent, 0.6f);
    c[ImGuiCol_Header] = vec(theme.accent, 0.35f);
    c[ImGuiCol_HeaderHovered] = vec(theme.accent, 0.5f);
    c[ImGuiCol_Separator] = vec(theme.border);
    ImGui::GetStyle() = style;
}

void ImGuiLayer::beginFrame(QSize framebufferPixels, double deltaSeconds) {
    ImGui::SetCurrentContext(m_context);
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(float(framebufferPixels.width()), float(framebufferPixels.height()));
    io.DisplayFramebufferScale = ImVec2(1.0f, 1.0f);
    io.DeltaTime = float(std::max(deltaSeconds, 1e-4));
    m_input.apply(io);
    ImGui_ImplOpenGL3_NewFrame();
    ImGui::NewFrame();
}

void ImGuiLayer::endFrame() {
    ImGui::SetCurrentContext(m_context);
    ImGui::Render();
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    m_glDraws.clear();
}

void ImGuiLayer::addGlDraw(ImDrawList* list, std::function<void(const ImVec4&)> draw) {
    m_glDraws.push_back(std::move(draw));
    list->AddCallback(runGlDraw, &m_glDraws.back());
    list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

}  // namespace kvscope::app
