// export_io.h — small things every exporter shares: errors as Status from Qt strings, and whole files.
#pragma once

#include <QByteArray>
#include <QString>

#include "kvscope/status.h"

namespace kvscope::app {

Status exportFailure(const QString& message);
// The error every exporter returns when it stops for a cancel (ExportControl::cancelled()).
Status cancelledStatus();
inline QString statusText(const Status& status) {
    return QString::fromStdString(status.message());
}
// Writes `bytes` as the whole of `path` (a PendingOutput's temporary); errors name the path.
Status writeFileBytes(const QByteArray& bytes, const QString& path);

}  // namespace kvscope::app
