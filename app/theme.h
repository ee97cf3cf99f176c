// theme.h — the colours and type of the app, one place for Qt widgets and GL views alike.
//
// Three themes: dark (the default on a monitor), light, and projector (light, high contrast, large type:
// what presenter mode uses). Cached and uncached runs have one colour each (teal and orange) that every
// view uses for them: pane headers, plot lines, token chips, counters, the recomputation sweep.
// K/V values use a diverging colour map (blue below zero, pink above) and attention weights a sequential
// one; both are lookup tables the shaders sample.
#pragma once

#include <QColor>
#include <QString>
#include <vector>

#include "run_types.h"

class QApplication;

namespace kvscope::app {

enum class ThemeKind { dark, light, projector };
QString themeKindName(ThemeKind kind);  // "dark", "light", "projector" (settings, CLI)
bool parseThemeKind(const QString& name, ThemeKind* kind);

struct Theme {
    ThemeKind kind = ThemeKind::dark;
    QColor window, panel, panelRaised, border, grid;
    QColor text, textDim, textStrong;
    QColor accent;  // selection, focus
    QColor sideColor[kSideCount];
    QColor sideTint[kSideCount];  // translucent fills in the side's colour
    QColor newRow;                // the row(s) a step wrote
    QColor maskCell;              // attention above the diagonal (a query never sees later keys)
    QColor promptChip, promptChipText;
    QColor warning, error;
    std::vector<QColor> divergingStops;   // K/V: negative → 0 → positive
    std::vector<QColor> sequentialStops;  // attention: 0 → 1
    float typeScale = 1.0f;               // the projector theme sets larger type

    const QColor& side(Side s) const { return sideColor[sideIndex(s)]; }
    const QColor& tint(Side s) const { return sideTint[sideIndex(s)]; }
    bool isDark() const { return kind == ThemeKind::dark; }
};

const Theme& themeFor(ThemeKind kind);

// Sets the Fusion style, a palette and a small style sheet on the whole application.
void applyTheme(QApplication& app, const Theme& theme, float fontScale);

// 256 RGBA8 colours interpolated between the stops (in linear light, so the middle is not muddy).
std::vector<unsigned char> colormapLut(const std::vector<QColor>& stops, int size = 256);

}  // namespace kvscope::app
