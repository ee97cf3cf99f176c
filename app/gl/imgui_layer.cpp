#include "gl/imgui_layer.h"

#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <QFile>
#include <QHash>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <cmath>
#include <future>
#include <map>
#include <vector>

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

}  // namespace

// One font atlas per pixel scale, rasterized once and shared by every ImGui context of the thread that
// uses that scale: a window holds about a dozen views, and rasterizing five fonts for each, then uploading
// a 4-byte-a-pixel copy of the atlas per context, was most of the app's start-up. An ImGuiLayer keeps its
// atlas alive; the cache only remembers it while one does. The atlas's GL texture (one byte a pixel, read
// as white with the byte as alpha) is made once per share group: the app's views share one (main.cpp sets
// Qt::AA_ShareOpenGLContexts); a context outside it uploads its own.
struct ImGuiLayer::SharedFonts {
    ImFontAtlas atlas;
    ImFont* fonts[int(FontRole::count)] = {};
    unsigned char* pixels = nullptr;  // the atlas's alpha, width x height
    int width = 0, height = 0;
    GLuint texture = 0;                    // in `group`
    QOpenGLContextGroup* group = nullptr;  // the share group `texture` lives in
};

namespace {

struct FontSpec {
    FontRole role;
    const char* file;
    float size;
};
constexpr FontSpec kFontSpecs[] = {
    {FontRole::body, ":/fonts/DejaVuSans.ttf", 15.0f},
    {FontRole::small, ":/fonts/DejaVuSans.ttf", 12.5f},
    {FontRole::bold, ":/fonts/DejaVuSans-Bold.ttf", 15.0f},
    {FontRole::heading, ":/fonts/DejaVuSans-Bold.ttf", 19.0f},
    {FontRole::mono, ":/fonts/DejaVuSansMono.ttf", 14.0f},
};

// The files of kFontSpecs, in order: read here, on the calling thread (fontData's cache is not shared
// between threads), so the atlas itself can be built on any.
std::vector<QByteArray> fontFiles() {
    std::vector<QByteArray> files;
    for (const FontSpec& s : kFontSpecs)
        files.push_back(fontData(s.file));
    return files;
}

std::shared_ptr<ImGuiLayer::SharedFonts> buildSharedFonts(float pixelScale,
                                                          const std::vector<QByteArray>& files) {
    auto shared = std::make_shared<ImGuiLayer::SharedFonts>();
    ImFontConfig config;
    config.FontDataOwnedByAtlas = false;
    config.OversampleH = 2;
    config.OversampleV = 1;
    config.PixelSnapH = false;
    for (size_t i = 0; i < std::size(kFontSpecs); ++i) {
        const FontSpec& s = kFontSpecs[i];
        const QByteArray& data = files[i];  // the caller keeps them alive (fontData's cache)
        shared->fonts[int(s.role)] =
            shared->atlas.AddFontFromMemoryTTF(const_cast<char*>(data.constData()), int(data.size()),
                                               std::round(s.size * pixelScale), &config, kGlyphRanges);
    }
    shared->atlas.GetTexDataAsAlpha8(&shared->pixels, &shared->width, &shared->height);  // rasterizes
    return shared;
}

// Atlases being built by prepareFonts(), for the thread that asked (a view of the same thread takes it).
thread_local std::map<float, std::future<std::shared_ptr<ImGuiLayer::SharedFonts>>> t_preparing;

std::shared_ptr<ImGuiLayer::SharedFonts> sharedFonts(float pixelScale) {
    // Per thread: an export may draw offscreen on another thread, and a context sets the atlas's texture
    // id before each of its frames.
    thread_local std::map<float, std::weak_ptr<ImGuiLayer::SharedFonts>> cache;
    std::weak_ptr<ImGuiLayer::SharedFonts>& slot = cache[pixelScale];
    std::shared_ptr<ImGuiLayer::SharedFonts> shared = slot.lock();
    if (!shared) {
        for (auto it = cache.begin(); it != cache.end();)  // forget atlases no layer holds any more
            it = it->second.expired() && &it->second != &slot ? cache.erase(it) : std::next(it);
        if (auto pending = t_preparing.find(pixelScale); pending != t_preparing.end()) {
            shared = pending->second.get();
            t_preparing.erase(pending);
        } else {
            shared = buildSharedFonts(pixelScale, fontFiles());
        }
        slot = shared;
    }
    return shared;
}

// An atlas with only ImGui's small default font, for the OpenGL backend to upload when it makes its
// device objects (it always uploads io.Fonts then): the real atlas's texture is made by uploadFonts().
ImFontAtlas& placeholderAtlas() {
    thread_local ImFontAtlas atlas;
    return atlas;
}

// Uploads the atlas's alpha as an R8 texture that samples as (1, 1, 1, alpha), what ImGui's RGBA32 copy
// holds, in a quarter of the memory.
GLuint uploadFonts(const ImGuiLayer::SharedFonts& fonts) {
    constexpr GLenum kR8 = 0x8229, kRed = 0x1903, kSwizzleRgba = 0x8E46;
    QOpenGLFunctions* gl = QOpenGLContext::currentContext()->functions();
    GLint lastTexture = 0, lastAlignment = 4;
    gl->glGetIntegerv(GL_TEXTURE_BINDING_2D, &lastTexture);
    gl->glGetIntegerv(GL_UNPACK_ALIGNMENT, &lastAlignment);
    GLuint texture = 0;
    gl->glGenTextures(1, &texture);
    gl->glBindTexture(GL_TEXTURE_2D, texture);
    gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    const GLint swizzle[4] = {GL_ONE, GL_ONE, GL_ONE, GLint(kRed)};
    gl->glTexParameteriv(GL_TEXTURE_2D, kSwizzleRgba, swizzle);
    gl->glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    gl->glTexImage2D(GL_TEXTURE_2D, 0, GLint(kR8), fonts.width, fonts.height, 0, kRed, GL_UNSIGNED_BYTE,
                     fonts.pixels);
    gl->glPixelStorei(GL_UNPACK_ALIGNMENT, lastAlignment);
    gl->glBindTexture(GL_TEXTURE_2D, GLuint(lastTexture));
    return texture;
}

void runGlDraw(const ImDrawList*, const ImDrawCmd* cmd) {
    auto* draw = static_cast<std::function<void(const ImVec4&)>*>(cmd->UserCallbackData);
    (*draw)(cmd->ClipRect);
}

}  // namespace

ImGuiLayer::ImGuiLayer() = default;

void ImGuiLayer::prepareFonts(float pixelScale) {
    // ImGui's allocator counts into the current context: a build on another thread must not run while
    // this thread has one (initialize() waits for it before making its own).
    if (ImGui::GetCurrentContext() || t_preparing.count(pixelScale)) return;
    t_preparing[pixelScale] = std::async(std::launch::async, [pixelScale, files = fontFiles()] {
        return buildSharedFonts(pixelScale, files);
    });
}

ImGuiLayer::~ImGuiLayer() {
    Q_ASSERT_X(!m_context, "~ImGuiLayer", "release() must run with the GL context current first");
}

void ImGuiLayer::makeCurrent() const {
    ImGui::SetCurrentContext(m_context);
}

bool ImGuiLayer::initialize(float pixelScale, const Theme& theme) {
    IMGUI_CHECKVERSION();
    for (auto& [scale, atlas] : t_preparing)  // see prepareFonts()
        atlas.wait();
    m_context = ImGui::CreateContext(&placeholderAtlas());
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
    dropFonts();
    ImGui_ImplOpenGL3_Shutdown();
    ImGui::DestroyContext(m_context);  // leaves the shared atlas alone (not owned by the context)
    m_context = nullptr;
}

void ImGuiLayer::dropFonts() {
    if (!m_fontShare) return;
    QOpenGLContext* context = QOpenGLContext::currentContext();
    QOpenGLFunctions* gl = context->functions();
    if (m_ownsTexture) {
        gl->glDeleteTextures(1, &m_fontTexture);
    } else if (m_fontShare.use_count() == 1 && m_fontShare->group == context->shareGroup()) {
        gl->glDeleteTextures(1, &m_fontShare->texture);  // the last context of the group using it
        m_fontShare->texture = 0;
        m_fontShare->group = nullptr;
    }
    m_fontTexture = 0;
    m_ownsTexture = false;
    ImGui::GetIO().Fonts = &placeholderAtlas();
    m_fontShare.reset();
}

void ImGuiLayer::useFonts(float pixelScale) {
    ImGuiIO& io = ImGui::GetIO();
    if (!m_deviceObjects) {
        // The backend's shader and buffers; it uploads the placeholder atlas with them, dropped at once.
        io.Fonts = &placeholderAtlas();
        ImGui_ImplOpenGL3_CreateDeviceObjects();
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        m_deviceObjects = true;
    }
    dropFonts();
    m_fontShare = sharedFonts(pixelScale);
    QOpenGLContextGroup* group = QOpenGLContext::currentContext()->shareGroup();
    if (!m_fontShare->texture) {
        m_fontShare->texture = uploadFonts(*m_fontShare);
        m_fontShare->group = group;
        // The texture dies with its group; a later group could be made at the same address.
        QObject::connect(group, &QObject::destroyed,
                         [weak = std::weak_ptr<SharedFonts>(m_fontShare), group]() {
                             if (auto shared = weak.lock(); shared && shared->group == group) {
                                 shared->texture = 0;
                                 shared->group = nullptr;
                             }
                         });
    }
    m_ownsTexture = m_fontShare->group != group;
    m_fontTexture = m_ownsTexture ? uploadFonts(*m_fontShare) : m_fontShare->texture;
    io.Fonts = &m_fontShare->atlas;
    m_pixelScale = pixelScale;
    for (int i = 0; i < int(FontRole::count); ++i)
        m_fonts[i] = m_fontShare->fonts[i];
    io.FontDefault = m_fonts[int(FontRole::body)];
}

void ImGuiLayer::setStyle(float pixelScale, const Theme& theme) {
    ImGui::SetCurrentContext(m_context);
    pixelScale = std::max(0.5f, pixelScale);
    if (pixelScale != m_pixelScale) {
        useFonts(pixelScale);
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
    io.Fonts->SetTexID(ImTextureID(intptr_t(m_fontTexture)));  // the texture of the context drawing now
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
