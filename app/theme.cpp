#include "theme.h"

#include <QApplication>
#include <QFont>
#include <QPalette>
#include <QStyleFactory>
#include <cmath>

namespace kvscope::app {

namespace {

Theme makeDark() {
    Theme t;
    t.kind = ThemeKind::dark;
    t.window = QColor("#15171c");
    t.panel = QColor("#1c1f26");
    t.panelRaised = QColor("#252932");
    t.border = QColor("#343a46");
    t.grid = QColor(255, 255, 255, 28);
    t.text = QColor("#d8dde6");
    t.textDim = QColor("#8b93a3");
    t.textStrong = QColor("#ffffff");
    t.accent = QColor("#7aa2ff");
    t.sideColor[0] = QColor("#2dd4bf");  // cached: teal
    t.sideColor[1] = QColor("#fb923c");  // uncached: orange
    t.sideTint[0] = QColor(45, 212, 191, 46);
    t.sideTint[1] = QColor(251, 146, 60, 46);
    t.newRow = QColor("#fde047");
    t.maskCell = QColor("#1a1d23");
    t.promptChip = QColor("#2c313b");
    t.promptChipText = QColor("#c5cbd6");
    t.warning = QColor("#fbbf24");
    t.error = QColor("#f87171");
    t.divergingStops = {QColor("#5aa9ff"), QColor("#2a5d9c"), QColor("#20242c"), QColor("#9c2f63"),
                        QColor("#ff6fae")};
    t.sequentialStops = {QColor("#1b1d24"), QColor("#3b1470"), QColor("#8c2981"),
                         QColor("#de4968"), QColor("#fe9f6d"), QColor("#fcfdbf")};
    return t;
}

Theme makeLight() {
    Theme t;
    t.kind = ThemeKind::light;
    t.window = QColor("#eef0f4");
    t.panel = QColor("#ffffff");
    t.panelRaised = QColor("#f4f6f9");
    t.border = QColor("#cfd5de");
    t.grid = QColor(0, 0, 0, 30);
    t.text = QColor("#1f2430");
    t.textDim = QColor("#5b6474");
    t.textStrong = QColor("#000000");
    t.accent = QColor("#2f5fd0");
    t.sideColor[0] = QColor("#0d9488");  // cached: teal, darker for white paper
    t.sideColor[1] = QColor("#ea580c");  // uncached: orange
    t.sideTint[0] = QColor(13, 148, 136, 34);
    t.sideTint[1] = QColor(234, 88, 12, 34);
    t.newRow = QColor("#111827");
    t.maskCell = QColor("#f1f3f6");
    t.promptChip = QColor("#e5e8ee");
    t.promptChipText = QColor("#2a303c");
    t.warning = QColor("#b45309");
    t.error = QColor("#c81e1e");
    t.divergingStops = {QColor("#1c64d6"), QColor("#8fb8f0"), QColor("#f7f8fa"), QColor("#f09bbf"),
                        QColor("#c2185b")};
    t.sequentialStops = {QColor("#ffffff"), QColor("#dbe4ff"), QColor("#91a7ff"),
                         QColor("#4c6ef5"), QColor("#2b3fb0"), QColor("#141c5c")};
    return t;
}

Theme makeProjector() {
    // Light, with everything a notch stronger: projectors wash out pale colours and thin lines.
    Theme t = makeLight();
    t.kind = ThemeKind::projector;
    t.window = QColor("#e6e9ef");  // panels stay white; the grey between them keeps the layout readable
    t.panelRaised = QColor("#f0f2f5");
    t.border = QColor("#8a93a3");
    t.grid = QColor(0, 0, 0, 60);
    t.text = QColor("#000000");
    t.textDim = QColor("#333a46");
    t.sideColor[0] = QColor("#00796b");
    t.sideColor[1] = QColor("#d84315");
    t.sideTint[0] = QColor(0, 121, 107, 46);
    t.sideTint[1] = QColor(216, 67, 21, 46);
    t.promptChip = QColor("#dde1e8");
    t.promptChipText = QColor("#000000");
    t.divergingStops = {QColor("#0b4fc2"), QColor("#6d9ff0"), QColor("#ffffff"), QColor("#ec6fa6"),
                        QColor("#a3004f")};
    t.sequentialStops = {QColor("#ffffff"), QColor("#c5d2ff"), QColor("#6f88f5"),
                         QColor("#2e48d6"), QColor("#16238a"), QColor("#050a3d")};
    t.typeScale = 1.35f;
    return t;
}

double toLinear(double c) {
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
double toSrgb(double c) {
    return c <= 0.0031308 ? c * 12.92 : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
}

}  // namespace

QString themeKindName(ThemeKind kind) {
    switch (kind) {
        case ThemeKind::dark:
            return QStringLiteral("dark");
        case ThemeKind::light:
            return QStringLiteral("light");
        case ThemeKind::projector:
            return QStringLiteral("projector");
    }
    return QStringLiteral("dark");
}

bool parseThemeKind(const QString& name, ThemeKind* kind) {
    for (ThemeKind k : {ThemeKind::dark, ThemeKind::light, ThemeKind::projector}) {
        if (name.compare(themeKindName(k), Qt::CaseInsensitive) == 0) {
            *kind = k;
            return true;
        }
    }
    return false;
}

const Theme& themeFor(ThemeKind kind) {
    static const Theme dark = makeDark(), light = makeLight(), projector = makeProjector();
    switch (kind) {
        case ThemeKind::light:
            return light;
        case ThemeKind::projector:
            return projector;
        case ThemeKind::dark:
            break;
    }
    return dark;
}

std::vector<unsigned char> colormapLut(const std::vector<QColor>& stops, int size) {
    Q_ASSERT_X(stops.size() >= 2, "colormapLut", "a colour map needs at least two stops");
    std::vector<unsigned char> lut(size_t(size) * 4);
    for (int i = 0; i < size; ++i) {
        const double t = double(i) / (size - 1) * double(stops.size() - 1);
        const int a = std::min(int(t), int(stops.size()) - 2);
        const double f = t - a;
        const QColor& c0 = stops[size_t(a)];
        const QColor& c1 = stops[size_t(a + 1)];
        const double rgb0[3] = {c0.redF(), c0.greenF(), c0.blueF()};
        const double rgb1[3] = {c1.redF(), c1.greenF(), c1.blueF()};
        for (int k = 0; k < 3; ++k) {
            const double lin = toLinear(rgb0[k]) * (1.0 - f) + toLinear(rgb1[k]) * f;
            lut[size_t(i) * 4 + size_t(k)] =
                (unsigned char)std::lround(std::clamp(toSrgb(lin), 0.0, 1.0) * 255.0);
        }
        lut[size_t(i) * 4 + 3] = 255;
    }
    return lut;
}

void applyTheme(QApplication& app, const Theme& t, float fontScale) {
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p;
    p.setColor(QPalette::Window, t.window);
    p.setColor(QPalette::WindowText, t.text);
    p.setColor(QPalette::Base, t.panel);
    p.setColor(QPalette::AlternateBase, t.panelRaised);
    p.setColor(QPalette::ToolTipBase, t.panelRaised);
    p.setColor(QPalette::ToolTipText, t.text);
    p.setColor(QPalette::PlaceholderText, t.textDim);
    p.setColor(QPalette::Text, t.text);
    p.setColor(QPalette::Button, t.panelRaised);
    p.setColor(QPalette::ButtonText, t.text);
    p.setColor(QPalette::BrightText, t.error);
    p.setColor(QPalette::Highlight, t.accent);
    p.setColor(QPalette::HighlightedText, QColor("#ffffff"));
    p.setColor(QPalette::Link, t.accent);
    p.setColor(QPalette::Mid, t.border);
    p.setColor(QPalette::Dark, t.border.darker(130));
    p.setColor(QPalette::Light, t.panelRaised.lighter(110));
    p.setColor(QPalette::Disabled, QPalette::Text, t.textDim);
    p.setColor(QPalette::Disabled, QPalette::ButtonText, t.textDim);
    p.setColor(QPalette::Disabled, QPalette::WindowText, t.textDim);
    app.setPalette(p);

    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSizeF(10.0 * double(fontScale * t.typeScale));
    app.setFont(font);

    const QString css =
        QStringLiteral(
            "QToolBar { border: none; spacing: 6px; padding: 4px; background: %1; }"
            "QDockWidget::title { padding: 6px; background: %2; color: %3; font-weight: bold; }"
            "QDockWidget { color: %3; }"
            "QStatusBar { background: %1; color: %4; }"
            "QLineEdit { padding: 4px 8px; border: 1px solid %5; border-radius: 4px; background: %6; }"
            "QLineEdit:focus { border: 1px solid %7; }"
            "QToolButton { padding: 4px 8px; border-radius: 4px; }"
            "QToolButton:checked { background: %8; }"
            "QToolButton:hover { background: %8; }"
            "QSplitter::handle { background: %1; }")
            .arg(t.window.name(), t.panelRaised.name(), t.text.name(), t.textDim.name(), t.border.name(),
                 t.panel.name(), t.accent.name(), t.border.name());
    app.setStyleSheet(css);
}

}  // namespace kvscope::app
