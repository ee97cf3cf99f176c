#include "export/frame_source.h"

#include "export/export_io.h"

namespace kvscope::app {

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
