#include "explanation_panel.h"

#include <QTextBrowser>
#include <QVBoxLayout>

#include "narration.h"
#include "trace_store.h"
#include "views/gl_view.h"

namespace kvscope::app {

ExplanationPanel::ExplanationPanel(TraceStore& store, DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_store(store), m_display(display), m_text(new QTextBrowser(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_text);
    m_text->setOpenExternalLinks(false);
    m_text->setFrameShape(QFrame::NoFrame);
    // Read, not typed in: a click here must not take the arrows and Space away from the run.
    m_text->setFocusPolicy(Qt::NoFocus);
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(150);
    connect(&m_throttle, &QTimer::timeout, this, &ExplanationPanel::refreshNow);
    connect(&m_store, &TraceStore::changed, this, [this] {
        if (!m_throttle.isActive()) m_throttle.start();
    });
    connect(&m_display, &DisplaySettings::changed, this, &ExplanationPanel::refreshNow);
    refreshNow();
}

void ExplanationPanel::setMode(CompareMode mode) {
    m_mode = mode;
    refreshNow();
}

void ExplanationPanel::refreshNow() {
    const Theme& th = m_display.theme();
    const QString html = narrate(m_store, th, m_mode);
    if (html == m_html) return;
    m_html = html;
    const double pt = 10.5 * double(m_display.viewScale());
    m_text->document()->setDefaultStyleSheet(
        QStringLiteral("body { color: %1; font-size: %2pt; } h3 { color: %3; margin-top: 2px; } p { margin: "
                       "0 0 8px 0; }")
            .arg(th.text.name())
            .arg(pt, 0, 'f', 1)
            .arg(th.textStrong.name()));
    m_text->setHtml(QStringLiteral("<body>%1</body>").arg(html));
}

}  // namespace kvscope::app
