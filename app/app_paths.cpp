#include "app_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace kvscope::app {

QStringList defaultModelCandidates() {
    const QString file = QString::fromLatin1(kDefaultModelFile);
    QStringList places;
    // Installed: <prefix>/bin/kvscope and <prefix>/share/kvscope/models (works for any prefix).
    const QString appDir = QCoreApplication::applicationDirPath();
    if (!appDir.isEmpty())
        places << QDir::cleanPath(appDir + QStringLiteral("/../share/kvscope/models/") + file);
    places << QDir::cleanPath(QString::fromUtf8(KVSCOPE_INSTALL_DATA_DIR) + QStringLiteral("/models/") +
                              file);
    // Build tree: the source checkout's assets.
    places << QDir::cleanPath(QString::fromUtf8(KVSCOPE_SOURCE_ASSETS_DIR) + QStringLiteral("/models/") +
                              file);
    places.removeDuplicates();
    return places;
}

QString defaultModelPath() {
    for (const QString& p : defaultModelCandidates())
        if (QFileInfo(p).isFile()) return p;
    return {};
}

}  // namespace kvscope::app
