#include "export/export_settings.h"

#include <QRegularExpression>
#include <array>

#include "export/export_control.h"
#include "export/export_io.h"

namespace kvscope::app {
namespace {

struct ViewInfo {
    ExportView view;
    const char* name;
};
constexpr std::array<ViewInfo, 12> kViews{{
    {ExportView::sideBySide, "side-by-side"},
    {ExportView::pane, "pane"},
    {ExportView::kvCache, "kv-cache"},
    {ExportView::attention, "attention"},
    {ExportView::counters, "counters"},
    {ExportView::plots, "plots"},
    {ExportView::tokens, "tokens"},
    {ExportView::scale, "scale"},
    {ExportView::roofline, "roofline"},
    {ExportView::complexity, "complexity"},
    {ExportView::firstToken, "first-token"},
    {ExportView::conversations, "conversations"},
}};

constexpr int kMaxFramesPerStep = 600;  // 20 s a step at 30 fps: more is a mistake, not a lesson

}  // namespace

QString viewName(ExportView view) {
    for (const ViewInfo& v : kViews)
        if (v.view == view) return QString::fromLatin1(v.name);
    assert(false && "every ExportView has a row in kViews");
    return {};
}

QStringList viewNames() {
    QStringList names;
    for (const ViewInfo& v : kViews)
        names << QString::fromLatin1(v.name);
    return names;
}

Result<ExportView> parseView(const QString& name) {
    for (const ViewInfo& v : kViews)
        if (name.compare(QLatin1String(v.name), Qt::CaseInsensitive) == 0) return v.view;
    return exportFailure(
        QStringLiteral("unknown view '%1' (known: %2)").arg(name, viewNames().join(QStringLiteral(", "))));
}

const std::vector<SizePreset>& sizePresets() {
    static const std::vector<SizePreset> presets{
        {"1080p", QSize(1920, 1080), "1920×1080 (16:9 slides)"},
        {"720p", QSize(1280, 720), "1280×720 (16:9, smaller files)"},
        {"square", QSize(1080, 1080), "1080×1080 (square)"},
    };
    return presets;
}

Result<QSize> parseExportSize(const QString& text) {
    for (const SizePreset& p : sizePresets())
        if (text.compare(QLatin1String(p.name), Qt::CaseInsensitive) == 0) return p.size;
    static const QRegularExpression wxh(QStringLiteral("^\\s*(\\d{1,6})\\s*[x×X]\\s*(\\d{1,6})\\s*$"));
    const QRegularExpressionMatch m = wxh.match(text);
    if (!m.hasMatch()) {
        QStringList names;
        for (const SizePreset& p : sizePresets())
            names << QString::fromLatin1(p.name);
        return exportFailure(QStringLiteral("size '%1': write WIDTHxHEIGHT (e.g. 1920x1080) or a preset (%2)")
                                 .arg(text, names.join(QStringLiteral(", "))));
    }
    const QSize size(m.captured(1).toInt(), m.captured(2).toInt());
    KVSCOPE_TRY(validateFrameSize(ExportFormat::png, size));
    return size;
}

Result<FrameTimeline> FrameTimeline::make(int firstStep, int lastStep, int framesPerStep,
                                          int stepsAvailable) {
    if (stepsAvailable < 1) return exportFailure(QStringLiteral("nothing to export: no steps have been run"));
    if (firstStep < 0 || lastStep < firstStep || lastStep >= stepsAvailable)
        return exportFailure(QStringLiteral("steps %1 to %2: the run has steps 0 (the prefill) to %3")
                                 .arg(firstStep)
                                 .arg(lastStep)
                                 .arg(stepsAvailable - 1));
    if (framesPerStep < 1 || framesPerStep > kMaxFramesPerStep)
        return exportFailure(
            QStringLiteral("%1 frames per step: use 1 to %2").arg(framesPerStep).arg(kMaxFramesPerStep));
    return FrameTimeline(firstStep, lastStep, framesPerStep);
}

QString progressLine(const ExportProgress& p) {
    const int percent = p.total > 0 ? int(100.0 * p.done / p.total) : 0;
    // In frames of the clip, as the dialog counts them; a GIF's two passes are named.
    QString line = p.frames > 0 ? QStringLiteral("%1: frame %2 of %3").arg(p.stage).arg(p.frame).arg(p.frames)
                                : QStringLiteral("%1: %2 of %3").arg(p.stage).arg(p.done).arg(p.total);
    if (p.passes > 1) line += QStringLiteral(" (pass %1 of %2)").arg(p.pass).arg(p.passes);
    line += QStringLiteral(", %1% in all").arg(percent);
    if (p.remainingSeconds >= 0) line += QStringLiteral(", %1 s left").arg(p.remainingSeconds, 0, 'f', 1);
    return line;
}

}  // namespace kvscope::app
