#include "app_paths.h"

#include <QCoreApplication>

namespace kvscope::app {

QStringList defaultModelCandidates() {
    QStringList places;
    for (const std::string& p :
         default_model_candidates(QCoreApplication::applicationDirPath().toStdString()))
        places << QString::fromStdString(p);
    return places;
}

QString defaultModelPath() {
    return QString::fromStdString(find_default_model(QCoreApplication::applicationDirPath().toStdString()));
}

}  // namespace kvscope::app
