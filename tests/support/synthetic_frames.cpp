#include "support/synthetic_frames.h"

#include <QPainter>

namespace kvscope::test {

QRect GrowingGridSource::cellRect(int row, int col) const {
    const int x0 = col * m_size.width() / kCols, x1 = (col + 1) * m_size.width() / kCols;
    const int y0 = row * m_size.height() / kRows, y1 = (row + 1) * m_size.height() / kRows;
    return QRect(QPoint(x0, y0), QPoint(x1 - 1, y1 - 1));
}

Result<QImage> GrowingGridSource::renderFrame(int index) {
    ++m_renders;
    QImage image(m_size, QImage::Format_RGBX8888);
    image.fill(background());
    QPainter painter(&image);
    for (int r = 0; r < kRows; ++r)
        for (int c = 0; c < kCols; ++c)
            if (rowVisible(r, index)) painter.fillRect(cellRect(r, c), colourAt(r, c));
    return image;
}

}  // namespace kvscope::test
