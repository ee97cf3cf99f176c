// export_dialog.h — File ▸ Export…: the steps the window has run, as an animation, a still or the counters.
//
// Settings on the left (what: view, run, layer, head; which steps; the look: size, theme, text size, title,
// caption; the timing: frames per step, frames per second, the arrival animation; the output: format and
// file), a preview of the first frame on the right (drawn by the same renderers and redrawn a moment after
// a setting changes), and at the bottom the progress with the time left. Export asks before replacing an
// existing file; Cancel stops at the next frame and leaves neither the file nor a temporary behind. The
// export runs the same ExportJob as `kvscope export`, from a copy of the window's history taken when
// Export is pressed (the window may keep stepping).
#pragma once

#include <QDialog>
#include <QImage>
#include <functional>
#include <memory>

#include "export/exporter.h"
#include "export/view_frames.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace kvscope::app {

class ExportJob;

class ExportDialog : public QDialog {
    Q_OBJECT
  public:
    // `store`: the window's history and selection (the layer and head shown become the defaults).
    ExportDialog(const TraceStore& store, ThemeKind theme, QWidget* parent = nullptr);
    ~ExportDialog() override;

    ExportSettings settings() const;          // as the controls say now
    void setSettings(const ExportSettings&);  // fills the controls (tests, remembered settings)
    // Presses Export: asks before replacing an existing file, then runs the export.
    void startExport();
    void cancelExport();
    bool exporting() const;
    // Who answers "replace the existing file?" (a message box by default; tests answer themselves).
    void setReplaceQuestion(std::function<bool(const QString& path)> ask) { m_askReplace = std::move(ask); }
    const QImage& preview() const { return m_preview; }
    QString statusText() const;
    // Where a new export goes: the folder of the last one, else the user's videos folder.
    static QString defaultExportFolder();

  signals:
    void previewUpdated();
    void exportFinished(const kvscope::app::ExportResult& result);

  protected:
    void reject() override;

  private:
    void build();
    void syncControls();
    void schedulePreview();
    void updatePreview();
    void onFormatChanged();
    void chooseFile();
    void onProgress(const ExportProgress& progress);
    void onFinished(const ExportResult& result);
    void setBusy(bool busy);
    void showStatus(const QString& text, bool error = false);

    const TraceStore& m_store;
    // What the dialog has no controls for and keeps from setSettings(): the Scale up view's choices (the
    // window's, so the exported view is the one on screen).
    ExportSettings m_carried;
    ExportHistory m_history;  // for the preview; refreshed when Export is pressed
    std::unique_ptr<ExportJob> m_job;
    std::function<bool(const QString&)> m_askReplace;
    QImage m_preview;
    QTimer* m_previewTimer;

    QComboBox* m_view;
    QComboBox* m_run;
    QSpinBox* m_layer;
    QSpinBox* m_head;
    QCheckBox* m_allHeads;
    QSpinBox* m_firstStep;
    QSpinBox* m_lastStep;
    QComboBox* m_size;
    QSpinBox* m_width;
    QSpinBox* m_height;
    QComboBox* m_theme;
    QDoubleSpinBox* m_fontScale;
    QLineEdit* m_title;
    QLineEdit* m_caption;
    QCheckBox* m_narrate;
    QSpinBox* m_framesPerStep;
    QSpinBox* m_fps;
    QCheckBox* m_animate;
    QLabel* m_duration;
    QComboBox* m_format;
    QLineEdit* m_path;
    QPushButton* m_browse;
    QLabel* m_previewLabel;
    QLabel* m_previewNote;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPushButton* m_exportButton;
    QPushButton* m_closeButton;
    QWidget* m_form;      // what, steps, look
    QWidget* m_formSide;  // timing and output, under the preview
};

}  // namespace kvscope::app
