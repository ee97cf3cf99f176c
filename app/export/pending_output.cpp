#include "export/pending_output.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "export/export_io.h"

namespace kvscope::app {

PendingOutput::~PendingOutput() = default;  // QTemporaryFile / QTemporaryDir remove what was not committed

Result<std::unique_ptr<PendingOutput>> PendingOutput::create(const QString& target, Kind kind,
                                                             bool replaceExisting) {
    if (target.isEmpty()) return exportFailure(QStringLiteral("no output path given"));
    const QFileInfo info(target);
    const QString folder = info.absolutePath();
    const QFileInfo folderInfo(folder);
    if (!folderInfo.exists())
        return exportFailure(
            QStringLiteral("cannot write '%1': folder '%2' does not exist").arg(target, folder));
    if (!folderInfo.isDir())
        return exportFailure(QStringLiteral("cannot write '%1': '%2' is not a folder").arg(target, folder));
    if (info.fileName().isEmpty())
        return exportFailure(
            QStringLiteral("cannot write '%1': the path names a folder, not a file").arg(target));
    if (info.exists() || info.isSymLink()) {
        if (kind == Kind::file && info.isDir())
            return exportFailure(QStringLiteral("cannot write '%1': it is a folder").arg(target));
        if (kind == Kind::folder && !info.isDir())
            return exportFailure(
                QStringLiteral("cannot write PNG frames to '%1': it is a file, frames go into a folder")
                    .arg(target));
        if (!replaceExisting)
            return exportFailure(
                QStringLiteral("'%1' already exists; choose another name or allow replacing it (--force)")
                    .arg(target));
    }

    std::unique_ptr<PendingOutput> out(new PendingOutput);
    out->m_kind = kind;
    out->m_targetPath = info.absoluteFilePath();
    const QString pattern =
        folder + QStringLiteral("/.") + info.fileName() + QStringLiteral(".kvscope-XXXXXX");
    if (kind == Kind::file) {
        out->m_file = std::make_unique<QTemporaryFile>(pattern);
        if (!out->m_file->open())
            return exportFailure(
                QStringLiteral("cannot write in folder '%1': %2").arg(folder, out->m_file->errorString()));
        out->m_temporaryPath = out->m_file->fileName();
        out->m_file
            ->close();  // the name stays reserved (and removed on destruction); encoders open it by path
    } else {
        out->m_folder = std::make_unique<QTemporaryDir>(pattern);
        if (!out->m_folder->isValid())
            return exportFailure(
                QStringLiteral("cannot write in folder '%1': %2").arg(folder, out->m_folder->errorString()));
        out->m_temporaryPath = out->m_folder->path();
    }
    return out;
}

Status PendingOutput::commit() {
    assert(!m_committed && "PendingOutput::commit() called twice");
    namespace fs = std::filesystem;
    const fs::path from = m_temporaryPath.toStdString(), to = m_targetPath.toStdString();
    std::error_code ec;
    if (m_kind == Kind::file) {
        fs::permissions(from, fs::perms(0644), ec);
        // rename(2) replaces an existing file atomically: the target is the old file or the new one.
        fs::rename(from, to, ec);
        if (ec)
            return exportFailure(QStringLiteral("cannot move the export into place as '%1': %2")
                                     .arg(m_targetPath, QString::fromStdString(ec.message())));
        m_file->setAutoRemove(false);
    } else {
        fs::permissions(from, fs::perms(0755), ec);
        // A folder cannot replace a non-empty folder in one rename: move the old one aside first, put the new
        // one in place, and only then delete the old one (restoring it if the second rename fails).
        QString aside;
        if (QFileInfo::exists(m_targetPath)) {
            const QFileInfo target(m_targetPath);
            QTemporaryDir reserve(target.absolutePath() + QStringLiteral("/.") + target.fileName() +
                                  QStringLiteral(".old-XXXXXX"));
            if (!reserve.isValid())
                return exportFailure(
                    QStringLiteral("cannot replace '%1': %2").arg(m_targetPath, reserve.errorString()));
            aside = reserve.path();
            reserve.setAutoRemove(false);
            fs::remove(aside.toStdString(), ec);  // the reserved empty folder: rename needs the name free
            fs::rename(to, aside.toStdString(), ec);
            if (ec)
                return exportFailure(QStringLiteral("cannot replace '%1': %2")
                                         .arg(m_targetPath, QString::fromStdString(ec.message())));
        }
        fs::rename(from, to, ec);
        if (ec) {
            std::error_code ignored;
            if (!aside.isEmpty()) fs::rename(aside.toStdString(), to, ignored);
            return exportFailure(QStringLiteral("cannot move the PNG frames into place as '%1': %2")
                                     .arg(m_targetPath, QString::fromStdString(ec.message())));
        }
        m_folder->setAutoRemove(false);
        if (!aside.isEmpty()) fs::remove_all(aside.toStdString(), ec);
    }
    m_committed = true;
    return Status::ok();
}

}  // namespace kvscope::app
