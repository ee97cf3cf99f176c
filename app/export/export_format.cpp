#include "export/export_format.h"

#include <array>

#include "export/export_io.h"
#include "export/h264_level.h"

namespace kvscope::app {
namespace {

struct FormatInfo {
    ExportFormat format;
    const char* name;
    const char* suffix;
};
constexpr std::array<FormatInfo, 7> kFormats{{
    {ExportFormat::mp4, "mp4", "mp4"},
    {ExportFormat::gif, "gif", "gif"},
    {ExportFormat::pngFrames, "png-frames", ""},
    {ExportFormat::png, "png", "png"},
    {ExportFormat::svg, "svg", "svg"},
    {ExportFormat::csv, "csv", "csv"},
    {ExportFormat::json, "json", "json"},
}};

const FormatInfo& info(ExportFormat format) {
    for (const FormatInfo& f : kFormats)
        if (f.format == format) return f;
    assert(false && "every ExportFormat has a row in kFormats");
    return kFormats[0];
}

}  // namespace

QString formatName(ExportFormat format) {
    return QString::fromLatin1(info(format).name);
}
QString formatSuffix(ExportFormat format) {
    return QString::fromLatin1(info(format).suffix);
}
bool writesFolder(ExportFormat format) {
    return format == ExportFormat::pngFrames;
}
bool isAnimation(ExportFormat format) {
    return format == ExportFormat::mp4 || format == ExportFormat::gif || format == ExportFormat::pngFrames;
}

std::optional<ExportFormat> formatFromName(const QString& name) {
    for (const FormatInfo& f : kFormats)
        if (name.compare(QLatin1String(f.name), Qt::CaseInsensitive) == 0) return f.format;
    return std::nullopt;
}

QStringList formatNames() {
    QStringList names;
    for (const FormatInfo& f : kFormats)
        names << QString::fromLatin1(f.name);
    return names;
}

Result<ExportFormat> parseFormat(const QString& name) {
    if (auto format = formatFromName(name)) return *format;
    return exportFailure(QStringLiteral("unknown export format '%1' (known: %2)")
                             .arg(name, formatNames().join(QStringLiteral(", "))));
}

Status validateFrameSize(ExportFormat format, QSize size) {
    const QString shown = QStringLiteral("%1×%2").arg(size.width()).arg(size.height());
    if (size.width() < 1 || size.height() < 1 || size.width() > kMaxExportSide ||
        size.height() > kMaxExportSide)
        return exportFailure(QStringLiteral("export size %1: each side must be 1 to %2 pixels")
                                 .arg(shown)
                                 .arg(kMaxExportSide));
    if (format != ExportFormat::mp4) return Status::ok();
    // H.264 in yuv420p stores colour at half resolution both ways, so the picture must have even sides.
    // We refuse rather than round: the size was asked for explicitly (and every preset is even), and a
    // video one pixel off silently misaligns on a slide laid out for the asked size.
    if (size.width() % 2 != 0 || size.height() % 2 != 0)
        return exportFailure(
            QStringLiteral("export size %1: H.264 (yuv420p) needs even width and height; try %2×%3")
                .arg(shown)
                .arg(size.width() + size.width() % 2)
                .arg(size.height() + size.height() % 2));
    if (!chooseH264Level(size, 1))
        return exportFailure(
            QStringLiteral("export size %1 is larger than any H.264 level allows (level 6.2: 139264 "
                           "macroblocks of 16×16, e.g. 8192×4320); choose a smaller size or PNG")
                .arg(shown));
    return Status::ok();
}

Status validateFps(ExportFormat format, int fps) {
    if (format == ExportFormat::gif && (fps < 1 || fps > kMaxGifFps))
        return exportFailure(
            QStringLiteral("GIF at %1 fps: GIF frame delays are in 1/100 s and browsers play delays "
                           "under 2/100 s at 1/10 s, so use 1 to %2 fps")
                .arg(fps)
                .arg(kMaxGifFps));
    if (fps < 1 || fps > kMaxVideoFps)
        return exportFailure(
            QStringLiteral("%1 fps: use 1 to %2 frames per second").arg(fps).arg(kMaxVideoFps));
    return Status::ok();
}

}  // namespace kvscope::app
