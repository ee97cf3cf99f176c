#include "export/exporter.h"

#include <QDirIterator>
#include <QFileInfo>
#include <functional>

#include "export/export_io.h"
#include "export/pending_output.h"
#include "export/png_export.h"

namespace kvscope::app {
namespace {

ExportResult failed(const QString& error) {
    ExportResult r;
    r.outcome = ExportResult::Outcome::failed;
    r.error = error;
    return r;
}

qint64 sizeOnDisk(const QString& path) {
    const QFileInfo info(path);
    if (!info.isDir()) return info.size();
    qint64 total = 0;
    for (QDirIterator it(path, QDir::Files); it.hasNext();)
        total += QFileInfo(it.next()).size();
    return total;
}

Status requireFormat(const ExportRequest& request, std::initializer_list<ExportFormat> allowed,
                     const char* what) {
    for (ExportFormat f : allowed)
        if (request.format == f) return Status::ok();
    return exportFailure(
        QStringLiteral("%1 cannot be exported as %2").arg(QLatin1String(what), formatName(request.format)));
}

// Makes the temporary, runs `write` into it, and moves it into place; classifies the outcome.
ExportResult run(const ExportRequest& request, const ExportControl* control,
                 const std::function<Status(const QString& temporary)>& write) {
    const auto kind = writesFolder(request.format) ? PendingOutput::Kind::folder : PendingOutput::Kind::file;
    Result<std::unique_ptr<PendingOutput>> pending =
        PendingOutput::create(request.outPath, kind, request.replaceExisting);
    if (!pending) return failed(statusText(pending.status()));
    const Status written = write((*pending)->temporaryPath());
    ExportResult result;
    if (control && control->cancelled()) {
        result.outcome = ExportResult::Outcome::cancelled;  // the PendingOutput removes what was written
        return result;
    }
    if (!written) return failed(statusText(written));
    if (Status moved = (*pending)->commit(); !moved) return failed(statusText(moved));
    result.outcome = ExportResult::Outcome::written;
    result.path = (*pending)->targetPath();
    result.bytes = sizeOnDisk(result.path);
    return result;
}

}  // namespace

ExportResult exportFrames(FrameSource& source, const ExportRequest& request, ExportControl& control) {
    if (Status s = requireFormat(
            request, {ExportFormat::mp4, ExportFormat::gif, ExportFormat::pngFrames, ExportFormat::png},
            "frames");
        !s)
        return failed(statusText(s));
    // Everything that can be checked is checked before the temporary exists and before a frame is drawn.
    if (Status s = checkClip(source, request.format, request.video.fps); !s) return failed(statusText(s));
    if (request.format == ExportFormat::png &&
        (request.stillFrame < 0 || request.stillFrame >= source.frameCount()))
        return failed(QStringLiteral("frame %1 asked for a still, the clip has frames 0 to %2")
                          .arg(request.stillFrame)
                          .arg(source.frameCount() - 1));
    return run(request, &control, [&](const QString& temporary) -> Status {
        switch (request.format) {
            case ExportFormat::mp4:
                return encodeMp4(source, temporary, request.video, control);
            case ExportFormat::gif:
                return encodeGif(source, temporary, request.video, control);
            case ExportFormat::pngFrames:
                return writePngFrames(source, temporary, control);
            default:
                return writePngStill(source, request.stillFrame, temporary);
        }
    });
}

ExportResult exportSvg(const SvgPage& page, const ExportRequest& request) {
    if (Status s = requireFormat(request, {ExportFormat::svg}, "a heatmap page"); !s)
        return failed(statusText(s));
    if (Status s = validateSvgPage(page); !s) return failed(statusText(s));
    return run(request, nullptr, [&](const QString& temporary) { return writeHeatmapSvg(page, temporary); });
}

ExportResult exportCounters(const std::vector<CountersRun>& runs, const ExportRequest& request) {
    if (Status s = requireFormat(request, {ExportFormat::csv, ExportFormat::json}, "counters"); !s)
        return failed(statusText(s));
    return run(request, nullptr, [&](const QString& temporary) {
        return writeCounters(runs, request.format == ExportFormat::json, temporary);
    });
}

}  // namespace kvscope::app
