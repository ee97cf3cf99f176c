// lesson_pack.h — the lessons as material for slides: per chapter a captioned MP4 and GIF (the pages'
// captions burned in, with their live numbers, as the steps go by), a still as PNG and SVG, and a one-page
// PDF handout (the still, the chapter's text, the question; the answer at the foot), plus index.html.
//
// Each chapter is run headless on the model (the same engine worker and lockstep as the window), with the
// chapter's prompt and exactly the steps its pages ask for, and drawn by the export renderers (ViewFrames).
// Clip timeline: each page shows its steps (stepSeconds each, the new rows animating in), then holds the
// last one for holdSeconds so the caption can be read; a caption's numbers are those of the step on screen.
// Deterministic: the same model and options give the same pixels — except where a caption or a view shows a
// wall-clock time, which the engine measured and which differs from run to run.
//
// Files, for chapter N with file "NN-name.json": NN-name.mp4, .gif, .png, .svg, .pdf; index.html lists them.
// The whole folder is written beside the target and appears only when every file was written.
#pragma once

#include <QList>
#include <QSize>
#include <QString>
#include <functional>

#include "kvscope/status.h"

namespace kvscope::app {

struct LessonBook;

struct LessonPackOptions {
    QString out;          // the folder to make
    bool force = false;   // replace it if it exists
    QList<int> chapters;  // chapter numbers (1-based); empty: all
    QString model;        // empty: the embedded model
    QSize videoSize{1280, 720};
    QSize gifSize{960, 540};
    int fps = 10;
    double stepSeconds = 0.4;
    double holdSeconds = 3.0;
    QString theme = QStringLiteral("light");
    double fontScale = 1.5;  // captions and labels readable on a projected slide
};

// What has been done: a line for a terminal or a progress dialog; return false to cancel.
using LessonPackProgress = std::function<bool(const QString& stage, int done, int total)>;

struct LessonPackResult {
    QString folder;
    QStringList files;  // relative to the folder
    qint64 bytes = 0;
};

// Writes the pack. Needs an OpenGL context (a display) and a QGuiApplication. Errors name the chapter, the
// page and the file.
Result<LessonPackResult> writeLessonPack(const LessonBook& book, const LessonPackOptions& options,
                                         const LessonPackProgress& progress = {});

// "all", or chapter numbers separated by commas ("1,3,10"), checked against the book.
Result<QList<int>> parseLessonChapters(const QString& text, const LessonBook& book);

}  // namespace kvscope::app
