// pending_output.h — an export's target that appears only when the export succeeded.
//
// Everything is written to a temporary beside the target (".NAME.kvscope-XXXXXX", in the same folder, so
// the final rename never crosses a file system) and renamed over the target by commit(). A failed or
// cancelled export destroys the PendingOutput without commit(): the temporary goes, and an existing
// target is left as it was. Whether an existing target may be replaced is decided up front
// (`replaceExisting`): the GUI asks the person before it sets it; the CLI sets it only with --force.
// The target is a file, or a folder for PNG frames (then the temporary is a folder too).
#pragma once

#include <QString>
#include <memory>

#include "kvscope/status.h"

class QTemporaryDir;
class QTemporaryFile;

namespace kvscope::app {

class PendingOutput {
  public:
    enum class Kind { file, folder };
    ~PendingOutput();  // removes the temporary unless committed
    PendingOutput(const PendingOutput&) = delete;
    PendingOutput& operator=(const PendingOutput&) = delete;

    // Checks the target's folder exists and is writable, and that the target is absent or may be
    // replaced, then makes the temporary. Errors name the path and the reason.
    static Result<std::unique_ptr<PendingOutput>> create(const QString& target, Kind kind,
                                                         bool replaceExisting);

    // Where to write: a file path, or a folder to fill.
    const QString& temporaryPath() const { return m_temporaryPath; }
    const QString& targetPath() const { return m_targetPath; }

    // Moves the temporary to the target (replacing an existing one of the same kind). Files get mode
    // 0644 and folders 0755, the temporaries' private 0600/0700 being no use on a finished export.
    Status commit();

  private:
    PendingOutput() = default;
    Kind m_kind = Kind::file;
    QString m_targetPath;
    QString m_temporaryPath;
    std::unique_ptr<QTemporaryFile> m_file;
    std::unique_ptr<QTemporaryDir> m_folder;
    bool m_committed = false;
};

}  // namespace kvscope::app
