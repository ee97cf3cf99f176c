#include "export/export_io.h"

#include <QFile>

namespace kvscope::app {

Status exportFailure(const QString& message) {
    return Status::error(message.toStdString());
}

Status cancelledStatus() {
    return exportFailure(QStringLiteral("export cancelled"));
}

Status writeFileBytes(const QByteArray& bytes, const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(bytes) != bytes.size() ||
        !file.flush())
        return exportFailure(QStringLiteral("cannot write '%1': %2").arg(path, file.errorString()));
    return Status::ok();
}

}  // namespace kvscope::app
