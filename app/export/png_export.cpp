#include "export/png_export.h"

#include <QDir>
#include <QImageWriter>

#include "export/export_format.h"
#include "export/export_io.h"
#include "export/video_encoders.h"

namespace kvscope::app {

QString pngFrameName(int index, int frameCount) {
    const int digits = std::max(4, int(QString::number(std::max(0, frameCount - 1)).size()));
    return QStringLiteral("frame_%1.png").arg(index, digits, 10, QLatin1Char('0'));
}

Status writePng(const QImage& image, const QString& path) {
    QImageWriter writer(path, "png");
    if (!writer.write(image))
        return exportFailure(QStringLiteral("cannot write PNG '%1': %2").arg(path, writer.errorString()));
    return Status::ok();
}

Status writePngFrames(FrameSource& source, const QString& folder, ExportControl& control) {
    KVSCOPE_TRY(checkClip(source, ExportFormat::pngFrames, 1));
    const int frames = source.frameCount();
    control.start();
    const QDir dir(folder);
    for (int i = 0; i < frames; ++i) {
        if (control.cancelled()) return cancelledStatus();
        Result<QImage> image = renderCheckedFrame(source, i);
        if (!image) return image.status();
        KVSCOPE_TRY(writePng(*image, dir.filePath(pngFrameName(i, frames))));
        control.report(i + 1, frames, QStringLiteral("writing PNG frames"));
    }
    return Status::ok();
}

Status writePngStill(FrameSource& source, int frame, const QString& path) {
    KVSCOPE_TRY(checkClip(source, ExportFormat::png, 1));
    if (frame < 0 || frame >= source.frameCount())
        return exportFailure(QStringLiteral("frame %1 asked for a still, the clip has frames 0 to %2")
                                 .arg(frame)
                                 .arg(source.frameCount() - 1));
    Result<QImage> image = renderCheckedFrame(source, frame);
    if (!image) return image.status();
    return writePng(*image, path);
}

}  // namespace kvscope::app
