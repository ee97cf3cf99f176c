#include "lessons/lesson_pack_dialog.h"

#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QMessageBox>
#include <QProgressDialog>

#include "format.h"
#include "lessons/lesson_book.h"
#include "lessons/lesson_pack.h"

namespace kvscope::app {

void exportLessonPackInteractively(QWidget* parent, const QString& model, const QString& theme) {
    const QString where = QFileDialog::getExistingDirectory(
        parent, QObject::tr("Where to put the lesson pack (a folder \"kvscope-lessons\" is made in it)"));
    if (where.isEmpty()) return;
    LessonPackOptions o;
    o.out = QDir(where).filePath(QStringLiteral("kvscope-lessons"));
    o.model = model;
    o.theme = theme;
    if (QFileInfo::exists(o.out)) {
        if (QMessageBox::question(parent, QObject::tr("Replace the lesson pack?"),
                                  QObject::tr("%1 exists. Replace it?").arg(o.out)) != QMessageBox::Yes)
            return;
        o.force = true;
    }
    QProgressDialog progress(QObject::tr("Exporting the lessons…"), QObject::tr("Cancel"), 0, 100, parent);
    progress.setWindowModality(Qt::WindowModal);
    progress.setMinimumDuration(0);
    progress.setValue(0);
    Result<LessonPackResult> written =
        writeLessonPack(shippedLessons(), o, [&](const QString& stage, int done, int total) {
            progress.setLabelText(stage);
            progress.setMaximum(total);
            progress.setValue(done);
            QApplication::processEvents();
            return !progress.wasCanceled();
        });
    progress.close();
    if (!written) {
        QMessageBox::warning(parent, QObject::tr("The lesson pack was not written"),
                             QString::fromStdString(written.message()));
        return;
    }
    QMessageBox::information(parent, QObject::tr("Lesson pack written"),
                             QObject::tr("%1 files (%2) in %3. Open index.html to see them all.")
                                 .arg(written->files.size())
                                 .arg(formatBytes(double(written->bytes)), written->folder));
}

}  // namespace kvscope::app
