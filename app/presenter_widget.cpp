#include "presenter_widget.h"

#include <QGridLayout>
#include <QLabel>
#include <QShortcut>
#include <QSplitter>
#include <QTabBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "explanation_panel.h"
#include "views/attention_renderer.h"
#include "views/counters_renderer.h"
#include "views/gl_view.h"
#include "views/headline_renderer.h"
#include "views/kv_cache_renderer.h"
#include "views/plots_renderer.h"
#include "views/token_strip_renderer.h"

namespace kvscope::app {

PresenterWidget::PresenterWidget(TraceStore& store, DisplaySettings& display, QWidget* parent)
    : QWidget(parent), m_store(store), m_display(display) {
    setObjectName(QStringLiteral("presenter"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    m_headline = new GlView(store, display, std::make_unique<HeadlineRenderer>(), Side::cached, this);
    layout->addWidget(m_headline);
    m_split = new QSplitter(Qt::Horizontal, this);
    m_tabs = new QTabWidget(m_split);
    m_tabs->setDocumentMode(true);
    m_tabs->tabBar()->setFocusPolicy(Qt::NoFocus);  // Space, P and the arrows stay the run's keys
    const QString names[pageCount] = {tr("1 · KV cache"), tr("2 · Attention"), tr("3 · Tokens"),
                                      tr("4 · Counters"), tr("5 · Plots")};
    for (int p = 0; p < pageCount; ++p) {
        auto* page = new QWidget(m_tabs);
        auto* grid = new QGridLayout(page);
        grid->setContentsMargins(0, 4, 0, 0);
        grid->setHorizontalSpacing(6);
        grid->setVerticalSpacing(2);
        m_tabs->addTab(page, names[p]);
        auto* key = new QShortcut(QKeySequence(Qt::Key_1 + p), this);
        connect(key, &QShortcut::activated, this, [this, p] { showPage(p); });
    }
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int p) { ensurePage(p); });
    m_narration = new ExplanationPanel(store, display, m_split);
    m_split->addWidget(m_tabs);
    m_split->addWidget(m_narration);
    m_split->setStretchFactor(0, 7);
    m_split->setStretchFactor(1, 3);
    m_split->setChildrenCollapsible(false);
    layout->addWidget(m_split, 1);
    connect(&display, &DisplaySettings::changed, this, &PresenterWidget::restyle);
    ensurePage(kvCachePage);
    restyle();
}

void PresenterWidget::ensurePage(int page) {
    if (page < 0 || page >= pageCount || !m_pageViews[size_t(page)].isEmpty()) return;
    QWidget* w = m_tabs->widget(page);
    auto* grid = static_cast<QGridLayout*>(w->layout());
    auto make = [&](Side side) -> std::unique_ptr<ViewRenderer> {
        switch (page) {
            case kvCachePage:
                return std::make_unique<KvCacheRenderer>(side);
            case attentionPage:
                return std::make_unique<AttentionRenderer>(side);
            case tokensPage:
                return std::make_unique<TokenStripRenderer>(side);
            case countersPage:
                return std::make_unique<CountersRenderer>(side);
            default:
                return std::make_unique<PlotsRenderer>();
        }
    };
    if (page == plotsPage) {
        auto* view = new GlView(m_store, m_display, make(Side::cached), Side::cached, w);
        grid->addWidget(view, 0, 0);
        m_pageViews[size_t(page)] << view;
        return;
    }
    // Both runs side by side, each under its name in its colour, the same size.
    for (Side side : kSides) {
        auto* label = new QLabel(sideTitle(side), w);
        label->setProperty("side", sideIndex(side));
        m_sideLabels << label;
        auto* view = new GlView(m_store, m_display, make(side), side, w);
        grid->addWidget(label, 0, sideIndex(side));
        grid->addWidget(view, 1, sideIndex(side));
        grid->setColumnStretch(sideIndex(side), 1);
        m_pageViews[size_t(page)] << view;
    }
    grid->setRowStretch(1, 1);
    restyle();
}

void PresenterWidget::showPage(int page) {
    if (page < 0 || page >= pageCount) return;
    ensurePage(page);
    m_tabs->setCurrentIndex(page);
}

int PresenterWidget::currentPage() const {
    return m_tabs->currentIndex();
}

QList<GlView*> PresenterWidget::views() const {
    QList<GlView*> out{m_headline};
    for (const auto& page : m_pageViews)
        out << page;
    return out;
}

void PresenterWidget::setMode(CompareMode mode) {
    m_narration->setMode(mode);
}

void PresenterWidget::restyle() {
    const Theme& th = m_display.theme();
    const double scale = double(m_display.viewScale());
    for (QLabel* label : m_sideLabels) {
        const Side side = Side(label->property("side").toInt());
        label->setStyleSheet(QStringLiteral("color: %1; font-weight: bold; font-size: %2pt;")
                                 .arg(th.side(side).name())
                                 .arg(11.0 * scale, 0, 'f', 1));
    }
    m_tabs->setStyleSheet(
        QStringLiteral("QTabBar::tab { font-size: %1pt; padding: 4px 14px; }").arg(10.5 * scale, 0, 'f', 1));
    // The headline: its three lines at the sizes the views draw them (ImGuiLayer: heading 19, bold and
    // body 15 design units) with their spacing and margins; a quarter of the height at most (it wraps
    // into smaller type past that).
    const int h = int(std::ceil((19.0 + 15.0 + 15.0 + 3 * 2.0 + 10.0) * scale));
    m_headline->setFixedHeight(std::clamp(h, 60, std::max(60, height() / 4)));
}

void PresenterWidget::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    restyle();
}

}  // namespace kvscope::app
