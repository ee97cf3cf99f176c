#include "export/frame_source.h"

#include "export/export_io.h"

namespace kvscope::app {

Status checkClip(const FrameSource& source, ExportFormat format, int fps) {
    KVSCOPE_TRY(validateFrameSize(format, source.frameSize()));
    if (isAnimation(format)) KVSCOPE_TRY(validateFps(format, fps));
    if (source.frameCount() < 1)
        return exportFailure(QStringLiteral("nothing to export: the clip has no frames"));
    return Status::ok();
}

Result<QImage> renderCheckedFrame(FrameSource& source, int index) {
    Result<QImage> image = source.renderFrame(index);
    if (!image)
        return exportFailure(
            QStringLiteral("frame %1: %2").arg(index).arg(QString::fromStdString(image.message())));
    if (image->size() != source.frameSize())
        return exportFailure(QStringLiteral("frame %1 is %2×%3 pixels, the export is %4×%5")
                                 .arg(index)
                                 .arg(image->width())
                                 .arg(image->height())
                                 .arg(source.frameSize().width())
                                 .arg(source.frameSize().height()));
    return image;
}

}  // namespace kvscope::app
