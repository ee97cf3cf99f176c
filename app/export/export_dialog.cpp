#include "export/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QSvgRenderer>
#include <QTimer>
#include <QVBoxLayout>

#include "export/export_job.h"
#include "export/view_frames.h"
#include "export/view_svg.h"
#include "format.h"

namespace kvscope::app {
namespace {

constexpr int kPreviewWidth = 560;
constexpr int kCustomSize = -1;  // the size combo's item for WIDTH × HEIGHT

struct ViewChoice {
    ExportView view;
    const char* label;
};
const ViewChoice kViewChoices[] = {
    {ExportView::sideBySide, QT_TRANSLATE_NOOP("ExportDialog", "Both runs side by side, with the plots")},
    {ExportView::pane, QT_TRANSLATE_NOOP("ExportDialog", "One run: tokens, KV cache, attention, counters")},
    {ExportView::kvCache, QT_TRANSLATE_NOOP("ExportDialog", "KV cache")},
    {ExportView::attention, QT_TRANSLATE_NOOP("ExportDialog", "Attention")},
    {ExportView::counters, QT_TRANSLATE_NOOP("ExportDialog", "Counters")},
    {ExportView::plots, QT_TRANSLATE_NOOP("ExportDialog", "Plots (both runs)")},
    {ExportView::tokens, QT_TRANSLATE_NOOP("ExportDialog", "Token strip")},
    {ExportView::scale, QT_TRANSLATE_NOOP("ExportDialog", "Scale up: the KV cache of real models")},
    {ExportView::roofline, QT_TRANSLATE_NOOP("ExportDialog", "Roofline: this machine's roofs and the steps")},
    {ExportView::complexity, QT_TRANSLATE_NOOP("ExportDialog", "Complexity: attention vs weight FLOPs")},
    {ExportView::firstToken,
     QT_TRANSLATE_NOOP("ExportDialog", "First token: the pause before the first word")},
    {ExportView::conversations, QT_TRANSLATE_NOOP("ExportDialog", "Conversations: paged vs reserved memory")},
};

struct FormatChoice {
    ExportFormat format;
    const char* label;
};
const FormatChoice kFormatChoices[] = {
    {ExportFormat::mp4, QT_TRANSLATE_NOOP("ExportDialog", "MP4 video (H.264): slides, browsers")},
    {ExportFormat::gif, QT_TRANSLATE_NOOP("ExportDialog", "GIF animation (looping)")},
    {ExportFormat::pngFrames, QT_TRANSLATE_NOOP("ExportDialog", "PNG frames (a folder)")},
    {ExportFormat::png, QT_TRANSLATE_NOOP("ExportDialog", "PNG picture of one step")},
    {ExportFormat::svg, QT_TRANSLATE_NOOP("ExportDialog", "SVG heatmaps of one step")},
    {ExportFormat::csv, QT_TRANSLATE_NOOP("ExportDialog", "Counters as CSV")},
    {ExportFormat::json, QT_TRANSLATE_NOOP("ExportDialog", "Counters as JSON")},
};

bool usesView(ExportView view, bool singleRun) {
    const bool oneRun = view == ExportView::pane || view == ExportView::kvCache ||
                        view == ExportView::attention || view == ExportView::counters ||
                        view == ExportView::tokens;
    return singleRun ? oneRun : true;
}

// Whether a view draws one layer (the KV cache's, the attention map's) and one attention head.
bool usesLayer(ExportView view) {
    return viewDrawsHeatmaps(view);
}
bool usesHead(ExportView view) {
    return view == ExportView::sideBySide || view == ExportView::pane || view == ExportView::attention;
}

QString withSuffix(const QString& path, ExportFormat format) {
    const QFileInfo info(path);
    const QString base = info.path() + QLatin1Char('/') + info.completeBaseName();
    const QString suffix = formatSuffix(format);
    return suffix.isEmpty() ? base : base + QLatin1Char('.') + suffix;
}

}  // namespace

ExportDialog::ExportDialog(const TraceStore& store, ThemeKind theme, QWidget* parent)
    : QDialog(parent), m_store(store), m_history(ExportHistory::of(store)) {
    setWindowTitle(tr("Export for slides"));
    m_askReplace = [this](const QString& path) {
        return QMessageBox::question(this, tr("Replace the file?"),
                                     tr("%1 already exists. Replace it with this export?").arg(path),
                                     QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
    };
    m_previewTimer = new QTimer(this);
    m_previewTimer->setSingleShot(true);
    m_previewTimer->setInterval(300);
    connect(m_previewTimer, &QTimer::timeout, this, &ExportDialog::updatePreview);
    build();

    // Defaults: what the window shows now, all steps, light theme for slides, MP4 at 1080p.
    ExportSettings s;
    s.layer = store.layer();
    s.head = store.head();
    s.allHeads = store.allHeads();
    s.firstStep = 0;
    s.lastStep = std::max(0, m_history.stepCount() - 1);
    s.theme = theme == ThemeKind::dark ? QStringLiteral("light") : themeKindName(theme);
    s.out = QDir(defaultExportFolder()).filePath(QStringLiteral("kvscope-lesson.mp4"));
    setSettings(s);
    updatePreview();
}

ExportDialog::~ExportDialog() = default;

QString ExportDialog::defaultExportFolder() {
    // Where the last export went; else the videos folder (made at the first export if it is missing),
    // never the bare home folder.
    if (!QCoreApplication::organizationName().isEmpty()) {
        const QString last = QSettings().value(QStringLiteral("export/folder")).toString();
        if (!last.isEmpty() && QFileInfo(last).isDir()) return last;
    }
    const QString videos = QStandardPaths::writableLocation(QStandardPaths::MoviesLocation);
    return videos.isEmpty() ? QDir::homePath() : videos;
}

void ExportDialog::build() {
    auto* top = new QHBoxLayout;
    m_form = new QWidget(this);
    auto* formColumn = new QVBoxLayout(m_form);
    formColumn->setContentsMargins(0, 0, 0, 0);
    // Timing and output sit under the preview: in one column the dialog was 763 pixels tall, and its
    // Export and Close buttons fell off a 1280×720 projector's screen.
    m_formSide = new QWidget(this);
    auto* sideColumn = new QVBoxLayout(m_formSide);
    sideColumn->setContentsMargins(0, 0, 0, 0);
    auto section = [&](const QString& title, QVBoxLayout* column) {
        auto* box = new QGroupBox(title, column->parentWidget());
        auto* layout = new QFormLayout(box);
        column->addWidget(box);
        return layout;
    };
    auto named = [](QWidget* w, const char* name) {
        w->setObjectName(QString::fromLatin1(name));
        return w;
    };
    const ModelConfig* c = m_history.model.valid() ? &m_history.model.config() : nullptr;
    const int steps = std::max(1, m_history.stepCount());

    QFormLayout* what = section(tr("What"), formColumn);
    m_view = new QComboBox(m_form);
    for (const ViewChoice& v : kViewChoices)
        m_view->addItem(tr(v.label), int(v.view));
    what->addRow(tr("View"), named(m_view, "view"));
    m_run = new QComboBox(m_form);
    m_run->addItem(sideTitle(Side::cached), false);
    m_run->addItem(sideTitle(Side::uncached), true);
    what->addRow(tr("Run"), named(m_run, "run"));
    m_layer = new QSpinBox(m_form);
    m_layer->setRange(0, c ? c->n_layers - 1 : 0);
    what->addRow(tr("Layer"), named(m_layer, "layer"));
    auto* heads = new QHBoxLayout;
    m_head = new QSpinBox(m_form);
    m_head->setRange(0, c ? c->n_heads - 1 : 0);
    m_allHeads = new QCheckBox(tr("all heads"), m_form);
    heads->addWidget(named(m_head, "head"));
    heads->addWidget(named(m_allHeads, "allHeads"));
    heads->addStretch();
    what->addRow(tr("Attention head"), heads);

    QFormLayout* which = section(tr("Steps (0 is the prefill)"), formColumn);
    auto* range = new QHBoxLayout;
    m_firstStep = new QSpinBox(m_form);
    m_lastStep = new QSpinBox(m_form);
    m_firstStep->setRange(0, steps - 1);
    m_lastStep->setRange(0, steps - 1);
    range->addWidget(named(m_firstStep, "firstStep"));
    range->addWidget(new QLabel(tr("to"), m_form));
    range->addWidget(named(m_lastStep, "lastStep"));
    range->addStretch();
    which->addRow(tr("From"), range);

    QFormLayout* look = section(tr("Look"), formColumn);
    m_size = new QComboBox(m_form);
    for (const SizePreset& p : sizePresets())
        m_size->addItem(QString::fromUtf8(p.label), p.size);
    m_size->addItem(tr("Custom"), kCustomSize);
    look->addRow(tr("Size"), named(m_size, "size"));
    auto* custom = new QHBoxLayout;
    m_width = new QSpinBox(m_form);
    m_height = new QSpinBox(m_form);
    for (QSpinBox* s : {m_width, m_height}) {
        s->setRange(16, kMaxExportSide);
        s->setSuffix(tr(" px"));
    }
    custom->addWidget(named(m_width, "width"));
    custom->addWidget(new QLabel(QStringLiteral("×"), m_form));
    custom->addWidget(named(m_height, "height"));
    custom->addStretch();
    look->addRow(QString(), custom);
    m_theme = new QComboBox(m_form);
    m_theme->addItem(tr("Light (slides)"), QStringLiteral("light"));
    m_theme->addItem(tr("Projector (light, high contrast, large type)"), QStringLiteral("projector"));
    m_theme->addItem(tr("Dark"), QStringLiteral("dark"));
    look->addRow(tr("Theme"), named(m_theme, "theme"));
    m_fontScale = new QDoubleSpinBox(m_form);
    m_fontScale->setRange(0.5, 4.0);
    m_fontScale->setSingleStep(0.1);
    m_fontScale->setSuffix(QStringLiteral("×"));
    look->addRow(tr("Text size"), named(m_fontScale, "fontScale"));
    m_title = new QLineEdit(m_form);
    m_title->setPlaceholderText(tr("optional, above the picture"));
    look->addRow(tr("Title"), named(m_title, "title"));
    m_caption = new QLineEdit(m_form);
    m_caption->setPlaceholderText(tr("optional, below the picture"));
    look->addRow(tr("Caption"), named(m_caption, "caption"));
    m_narrate = new QCheckBox(tr("Caption each step with what it did (the narration)"), m_form);
    look->addRow(QString(), named(m_narrate, "narrate"));

    QFormLayout* timing = section(tr("Timing"), sideColumn);
    m_framesPerStep = new QSpinBox(m_form);
    m_framesPerStep->setRange(1, 600);
    timing->addRow(tr("Frames per step"), named(m_framesPerStep, "framesPerStep"));
    m_fps = new QSpinBox(m_form);
    m_fps->setRange(1, kMaxVideoFps);
    m_fps->setSuffix(tr(" fps"));
    timing->addRow(tr("Frame rate"), named(m_fps, "fps"));
    m_animate =
        new QCheckBox(tr("animate each step's arrival (new rows flash, recomputed rows sweep)"), m_form);
    timing->addRow(QString(), named(m_animate, "animate"));
    m_duration = new QLabel(m_form);
    timing->addRow(QString(), m_duration);

    QFormLayout* output = section(tr("Output"), sideColumn);
    m_format = new QComboBox(m_form);
    for (const FormatChoice& f : kFormatChoices)
        m_format->addItem(tr(f.label), int(f.format));
    output->addRow(tr("Format"), named(m_format, "format"));
    auto* file = new QHBoxLayout;
    m_path = new QLineEdit(m_form);
    m_browse = new QPushButton(tr("Browse…"), m_form);
    file->addWidget(named(m_path, "path"));
    file->addWidget(m_browse);
    output->addRow(tr("File"), file);
    formColumn->addStretch();
    top->addWidget(m_form, 0);

    auto* previewColumn = new QVBoxLayout;
    auto* previewTitle = new QLabel(tr("<b>Preview</b> of the first frame"), this);
    m_previewLabel = new QLabel(this);
    m_previewLabel->setObjectName(QStringLiteral("preview"));
    m_previewLabel->setMinimumSize(kPreviewWidth, kPreviewWidth * 9 / 16);
    m_previewLabel->setAlignment(Qt::AlignCenter);
    m_previewLabel->setFrameShape(QFrame::StyledPanel);
    m_previewNote = new QLabel(this);
    m_previewNote->setWordWrap(true);
    m_previewNote->setMaximumWidth(kPreviewWidth);
    previewColumn->addWidget(previewTitle);
    previewColumn->addWidget(m_previewLabel);
    previewColumn->addWidget(m_previewNote);
    previewColumn->addWidget(m_formSide);
    previewColumn->addStretch();
    top->addLayout(previewColumn, 1);

    auto* bottom = new QHBoxLayout;
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("progress"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("status"));
    m_status->setWordWrap(true);
    m_exportButton = new QPushButton(tr("Export"), this);
    m_exportButton->setDefault(true);
    m_closeButton = new QPushButton(tr("Close"), this);
    bottom->addWidget(m_progress, 1);
    bottom->addWidget(m_exportButton);
    bottom->addWidget(m_closeButton);

    auto* outer = new QVBoxLayout(this);
    outer->addLayout(top);
    outer->addWidget(m_status);
    outer->addLayout(bottom);

    connect(m_exportButton, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_closeButton, &QPushButton::clicked, this, [this] {
        if (exporting())
            cancelExport();
        else
            accept();
    });
    connect(m_browse, &QPushButton::clicked, this, &ExportDialog::chooseFile);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::onFormatChanged);
    for (QComboBox* box : {m_view, m_run, m_size, m_theme})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            syncControls();
            schedulePreview();
        });
    for (QSpinBox* box :
         {m_layer, m_head, m_firstStep, m_lastStep, m_width, m_height, m_framesPerStep, m_fps})
        connect(box, &QSpinBox::valueChanged, this, [this] {
            syncControls();
            schedulePreview();
        });
    connect(m_fontScale, &QDoubleSpinBox::valueChanged, this, &ExportDialog::schedulePreview);
    for (QCheckBox* box : {m_allHeads, m_animate, m_narrate})
        connect(box, &QCheckBox::toggled, this, [this] {
            syncControls();
            schedulePreview();
        });
    for (QLineEdit* edit : {m_title, m_caption})
        connect(edit, &QLineEdit::textChanged, this, &ExportDialog::schedulePreview);
}

ExportSettings ExportDialog::settings() const {
    ExportSettings s = m_carried;
    s.format = ExportFormat(m_format->currentData().toInt());
    s.out = m_path->text().trimmed();
    s.view = ExportView(m_view->currentData().toInt());
    s.uncachedRun = m_run->currentData().toBool();
    s.layer = m_layer->value();
    s.head = m_head->value();
    s.allHeads = m_allHeads->isChecked();
    s.firstStep = m_firstStep->value();
    s.lastStep = m_lastStep->value();
    s.stillStep = isAnimation(s.format) ? -1 : m_lastStep->value();
    const QVariant size = m_size->currentData();
    s.size = size.typeId() == QMetaType::Int ? QSize(m_width->value(), m_height->value()) : size.toSize();
    s.theme = m_theme->currentData().toString();
    s.fontScale = m_fontScale->value();
    s.title = m_title->text();
    s.caption = m_caption->text();
    s.narrate = m_narrate->isChecked();
    s.framesPerStep = m_framesPerStep->value();
    s.fps = m_fps->value();
    s.animate = m_animate->isChecked();
    return s;
}

void ExportDialog::setSettings(const ExportSettings& s) {
    m_carried = s;
    const QSignalBlocker blockers[] = {
        QSignalBlocker(m_format),    QSignalBlocker(m_view),      QSignalBlocker(m_run),
        QSignalBlocker(m_size),      QSignalBlocker(m_theme),     QSignalBlocker(m_layer),
        QSignalBlocker(m_head),      QSignalBlocker(m_firstStep), QSignalBlocker(m_lastStep),
        QSignalBlocker(m_width),     QSignalBlocker(m_height),    QSignalBlocker(m_framesPerStep),
        QSignalBlocker(m_fps),       QSignalBlocker(m_allHeads),  QSignalBlocker(m_animate),
        QSignalBlocker(m_fontScale), QSignalBlocker(m_title),     QSignalBlocker(m_caption),
        QSignalBlocker(m_narrate)};
    m_format->setCurrentIndex(m_format->findData(int(s.format)));
    m_path->setText(s.out);
    m_view->setCurrentIndex(m_view->findData(int(s.view)));
    m_run->setCurrentIndex(s.uncachedRun ? 1 : 0);
    m_layer->setValue(s.layer);
    m_head->setValue(s.head);
    m_allHeads->setChecked(s.allHeads);
    m_firstStep->setValue(s.firstStep);
    m_lastStep->setValue(s.lastStep < 0 ? m_lastStep->maximum() : s.lastStep);
    int sizeIndex = m_size->findData(kCustomSize);
    for (int i = 0; i < m_size->count(); ++i)
        if (m_size->itemData(i).toSize() == s.size) sizeIndex = i;
    m_size->setCurrentIndex(sizeIndex);
    m_width->setValue(s.size.width());
    m_height->setValue(s.size.height());
    m_theme->setCurrentIndex(std::max(0, m_theme->findData(s.theme)));
    m_fontScale->setValue(s.fontScale);
    m_title->setText(s.title);
    m_caption->setText(s.caption);
    m_narrate->setChecked(s.narrate);
    m_framesPerStep->setValue(s.framesPerStep);
    m_fps->setValue(s.fps);
    m_animate->setChecked(s.animate);
    syncControls();
    schedulePreview();
}

void ExportDialog::syncControls() {
    const ExportSettings s = settings();
    const bool animated = isAnimation(s.format);
    const bool counters = s.format == ExportFormat::csv || s.format == ExportFormat::json;
    const bool custom = m_size->currentData().typeId() == QMetaType::Int;
    if (!custom) {
        const QSignalBlocker bw(m_width), bh(m_height);
        m_width->setValue(s.size.width());
        m_height->setValue(s.size.height());
    }
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_view, m_size, m_theme, m_fontScale, m_title, m_caption, m_narrate})
        w->setEnabled(!counters);
    m_run->setEnabled(!counters && usesView(s.view, true));
    // Layer and head only where the view draws them (not the plots, the scale or the first token, say).
    m_layer->setEnabled(!counters && usesLayer(s.view));
    m_allHeads->setEnabled(!counters && usesHead(s.view));
    m_head->setEnabled(!counters && usesHead(s.view) && !s.allHeads);
    m_width->setEnabled(!counters && custom);
    m_height->setEnabled(!counters && custom);
    m_firstStep->setEnabled(animated || counters);
    for (QWidget* w : std::initializer_list<QWidget*>{m_framesPerStep, m_fps, m_animate})
        w->setEnabled(animated);
    if (animated) {
        const int steps = std::max(0, s.lastStep - s.firstStep + 1);
        const int frames = steps * s.framesPerStep;
        m_duration->setText(tr("%1 steps × %2 frames = %3 frames, %4 s")
                                .arg(steps)
                                .arg(s.framesPerStep)
                                .arg(frames)
                                .arg(double(frames) / std::max(1, s.fps), 0, 'f', 1));
    } else {
        m_duration->setText(counters ? tr("the counters of steps %1 to %2").arg(s.firstStep).arg(s.lastStep)
                                     : tr("one picture of step %1").arg(s.lastStep));
    }
}

void ExportDialog::onFormatChanged() {
    const ExportSettings s = settings();
    if (!s.out.isEmpty()) {
        const QSignalBlocker block(m_path);
        m_path->setText(withSuffix(s.out, s.format));
    }
    if (s.format == ExportFormat::gif && s.fps > kMaxGifFps) m_fps->setValue(15);
    syncControls();
    schedulePreview();
}

void ExportDialog::chooseFile() {
    const ExportSettings s = settings();
    QString chosen;
    if (writesFolder(s.format)) {
        chosen = QFileDialog::getSaveFileName(this, tr("Folder for the PNG frames"), s.out);
    } else {
        const QString suffix = formatSuffix(s.format);
        chosen = QFileDialog::getSaveFileName(this, tr("Export to"), s.out,
                                              tr("%1 files (*.%2)").arg(suffix.toUpper(), suffix), nullptr,
                                              QFileDialog::DontConfirmOverwrite);  // asked at Export
    }
    if (!chosen.isEmpty()) m_path->setText(chosen);
}

void ExportDialog::schedulePreview() {
    if (!exporting()) m_previewTimer->start();
}

void ExportDialog::updatePreview() {
    if (exporting()) return;
    ExportSettings s = settings();
    if (s.format == ExportFormat::csv || s.format == ExportFormat::json) {
        m_preview = QImage();
        m_previewLabel->setPixmap(QPixmap());
        m_previewLabel->setText(tr("Counters: a table, no picture"));
        m_previewNote->setText(
            tr("Every step's FLOPs, bytes and times, per operation class, for both runs."));
        emit previewUpdated();
        return;
    }
    s.force = true;  // the preview writes nothing
    // The first frame as the export would draw it, or why there is none. (A Result holds a value or an
    // error, never an ok status without a value: the debug build's assert caught one here.)
    const Result<ExportSettings> resolved = resolveExportSettings(s, m_history);
    const Result<QImage> image = [&]() -> Result<QImage> {
        if (!resolved) return resolved.status();
        if (s.format == ExportFormat::svg) {
            Result<SvgPage> page = viewSvgPage(m_history, *resolved);
            if (!page) return page.status();
            QSvgRenderer svg(heatmapSvg(*page));
            QImage picture(resolved->size, QImage::Format_RGB32);
            picture.fill(Qt::white);
            QPainter painter(&picture);
            svg.render(&painter);
            return picture;
        }
        Result<std::unique_ptr<ViewFrames>> frames = ViewFrames::create(m_history, *resolved);
        if (!frames) return frames.status();
        return (*frames)->renderFrame(0);
    }();
    if (!image) {
        m_preview = QImage();
        m_previewLabel->setPixmap(QPixmap());
        m_previewLabel->setText(QString());
        m_previewNote->setText(QStringLiteral("<span style='color:#c62828'>%1</span>")
                                   .arg(QString::fromStdString(image.message()).toHtmlEscaped()));
        emit previewUpdated();
        return;
    }
    m_preview = *image;
    const QSize box = m_previewLabel->size() - QSize(4, 4);
    m_previewLabel->setText(QString());
    m_previewLabel->setPixmap(
        QPixmap::fromImage(m_preview.scaled(box, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
    m_previewNote->setText(
        tr("%1×%2, step %3%4")
            .arg(m_preview.width())
            .arg(m_preview.height())
            .arg(isAnimation(s.format) ? resolved->firstStep : resolved->stillStep)
            .arg(s.format == ExportFormat::svg ? tr(": the heatmaps as vector cells") : QString()));
    emit previewUpdated();
}

bool ExportDialog::exporting() const {
    return m_job && m_job->running();
}

QString ExportDialog::statusText() const {
    return m_status->text();
}

void ExportDialog::showStatus(const QString& text, bool error) {
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #c62828") : QString());
}

void ExportDialog::setBusy(bool busy) {
    m_form->setEnabled(!busy);
    m_formSide->setEnabled(!busy);
    m_exportButton->setEnabled(!busy);
    m_closeButton->setText(busy ? tr("Cancel") : tr("Close"));
}

void ExportDialog::startExport() {
    if (exporting()) return;
    ExportSettings s = settings();
    if (s.out.isEmpty()) {
        showStatus(tr("Choose a file to export to."), true);
        return;
    }
    const QFileInfo target(s.out);
    if (target.exists() || target.isSymLink()) {
        if (!m_askReplace(target.absoluteFilePath())) return;
        s.force = true;
    }
    // The standard videos or pictures folder may not exist yet on a fresh account: made, as a file
    // manager would. Any other missing folder is the user's typo and the export says so.
    const QString parent = target.absolutePath();
    for (auto location : {QStandardPaths::MoviesLocation, QStandardPaths::PicturesLocation})
        if (!QFileInfo(parent).exists() && parent == QStandardPaths::writableLocation(location))
            QDir().mkpath(parent);
    m_history = ExportHistory::of(m_store);
    m_previewTimer->stop();
    m_job = std::make_unique<ExportJob>(m_history, s);
    connect(m_job.get(), &ExportJob::progress, this, &ExportDialog::onProgress);
    connect(m_job.get(), &ExportJob::finished, this, &ExportDialog::onFinished);
    if (Status started = m_job->start(); !started) {
        m_job.reset();
        showStatus(QString::fromStdString(started.message()), true);
        return;
    }
    if (!QCoreApplication::organizationName().isEmpty())
        QSettings().setValue(QStringLiteral("export/folder"),
                             writesFolder(s.format) ? QFileInfo(parent).absolutePath() : parent);
    setBusy(true);
    m_progress->setRange(0, 0);  // busy until the first progress report
    showStatus(tr("Exporting…"));
}

void ExportDialog::cancelExport() {
    if (!exporting()) return;
    m_job->cancel();
    showStatus(tr("Cancelling…"));
}

void ExportDialog::onProgress(const ExportProgress& p) {
    m_progress->setRange(0, std::max(1, p.total));
    m_progress->setValue(p.done);
    showStatus(progressLine(p));
}

void ExportDialog::onFinished(const ExportResult& result) {
    setBusy(false);
    m_progress->setRange(0, 1);
    m_progress->setValue(result.ok() ? 1 : 0);
    switch (result.outcome) {
        case ExportResult::Outcome::written:
            showStatus(tr("Wrote %1 (%2).").arg(result.path, formatBytes(double(result.bytes))));
            break;
        case ExportResult::Outcome::cancelled:
            showStatus(tr("Cancelled: nothing was written."));
            break;
        case ExportResult::Outcome::failed:
            showStatus(result.error, true);
            break;
    }
    // The job is in the middle of emitting this signal: it goes once it has returned.
    m_job.release()->deleteLater();
    emit exportFinished(result);
}

void ExportDialog::reject() {
    if (m_job) m_job.reset();  // cancels, and waits the moment the worker needs to stop
    QDialog::reject();
}

}  // namespace kvscope::app
