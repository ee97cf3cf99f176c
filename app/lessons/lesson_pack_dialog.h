// lesson_pack_dialog.h — File ▸ Export lesson pack…: the lesson pack (lesson_pack.h) from the app, into a
// folder the user picks, with a progress dialog that can cancel (nothing is left behind then).
#pragma once

#include <QString>

class QWidget;

namespace kvscope::app {

// `model`: the model the lessons run on (the window's); `theme`: "light", "dark" or "projector".
void exportLessonPackInteractively(QWidget* parent, const QString& model, const QString& theme);

}  // namespace kvscope::app
