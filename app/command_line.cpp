#include "command_line.h"

#include "kvscope/cache_policy.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace kvscope::app {

bool parseCommandLine(const QCoreApplication& app, AppOptions* o, QString* error) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "KVScope shows how the KV cache makes language models fast: the same model runs twice, with "
        "and without a KV cache, side by side."));
    p.addHelpOption();
    p.addVersionOption();
    const QCommandLineOption model(
        {QStringLiteral("m"), QStringLiteral("model")},
        QStringLiteral("Model to open (GGUF, safetensors folder, llama2.c .bin); default: "
                       "the embedded model."),
        QStringLiteral("file"));
    const QCommandLineOption prompt(
        {QStringLiteral("p"), QStringLiteral("prompt")},
        QStringLiteral("Prompt text (token ids separated by commas for models without a "
                       "tokenizer)."),
        QStringLiteral("text"));
    const QCommandLineOption steps(
        QStringLiteral("steps"),
        QStringLiteral("Generate this many tokens at start: the prefill (step 0), then N decode steps, as "
                       "`kvscope export --steps N` does. Stops early, saying so, where the context is full."),
        QStringLiteral("n"));
    const QCommandLineOption mode(QStringLiteral("mode"), QStringLiteral("lockstep or race."),
                                  QStringLiteral("mode"));
    const QCommandLineOption theme(QStringLiteral("theme"), QStringLiteral("dark, light or projector."),
                                   QStringLiteral("theme"));
    const QCommandLineOption fontScale(QStringLiteral("font-scale"),
                                       QStringLiteral("Text size factor (0.6 to 3)."), QStringLiteral("x"));
    const QCommandLineOption presenter(
        QStringLiteral("presenter"),
        QStringLiteral("Start in presenter mode (full screen, projector theme)."));
    const QCommandLineOption bench(
        QStringLiteral("benchmark-ui"),
        QStringLiteral("Measure the GUI's frame times while both runs step at full speed to "
                       "the end of the context (lockstep, then race); write them as JSON "
                       "and quit."),
        QStringLiteral("file.json"));
    const QCommandLineOption surface(
        QStringLiteral("gl-surface"),
        QStringLiteral("How views reach the screen: widget (QOpenGLWidget, composed by "
                       "Qt) or window (a QOpenGLWindow per view). Default: window with a "
                       "software OpenGL renderer, widget otherwise."),
        QStringLiteral("kind"));
    const QCommandLineOption lesson(
        QStringLiteral("lesson"),
        QStringLiteral(
            "Open chapter N of the guided lessons; N:P walks through its page P, doing each page's action."),
        QStringLiteral("N[:P]"));
    const QCommandLineOption rightRun(
        QStringLiteral("right-run"),
        QStringLiteral("The right pane's run: \"none\" (without a KV cache, the default) or a cache variant: "
                       "f16, bf16, int8, int4, window:W=64, sinks:S=4,W=60, h2o:B=64, tova:B=64."),
        QStringLiteral("spec"));
    const QCommandLineOption freeRunning(QStringLiteral("free-running"),
                                         QStringLiteral("The variant picks its own tokens (lockstep)."));
    p.addOptions({model, prompt, steps, mode, theme, fontScale, presenter, surface, bench, lesson, rightRun,
                  freeRunning});
    p.addPositionalArgument(QStringLiteral("model"), QStringLiteral("Model to open (same as --model)."),
                            QStringLiteral("[model]"));
    p.process(app);
    // `kvscope FILE` (what the desktop entry runs for a file) is `kvscope --model FILE`.
    const QStringList positional = p.positionalArguments();
    if (positional.size() > 1 || (positional.size() == 1 && p.isSet(model))) {
        *error = QStringLiteral("unexpected argument \"%1\" (one model, given as FILE or --model FILE)")
                     .arg(positional.last());
        return false;
    }
    o->model = positional.isEmpty() ? p.value(model) : positional.first();
    o->prompt = p.value(prompt);
    o->presenter = p.isSet(presenter);
    o->benchmarkFile = p.value(bench);
    o->glSurface = p.value(surface);
    if (!o->glSurface.isEmpty() && o->glSurface != QStringLiteral("widget") &&
        o->glSurface != QStringLiteral("window")) {
        *error = QStringLiteral("--gl-surface: \"%1\" is neither widget nor window").arg(o->glSurface);
        return false;
    }
    if (p.isSet(lesson)) {
        const QStringList parts = p.value(lesson).split(QLatin1Char(':'));
        bool ok = parts.size() <= 2;
        o->lesson = parts.value(0).toInt(&ok);
        if (ok && parts.size() == 2) o->lessonPage = parts[1].toInt(&ok);
        if (!ok || o->lesson < 1 || (parts.size() == 2 && o->lessonPage < 1)) {
            *error = QStringLiteral("--lesson: \"%1\" is not a chapter number, or CHAPTER:PAGE")
                         .arg(p.value(lesson));
            return false;
        }
    }
    if (p.isSet(steps)) {
        bool ok = false;
        o->steps = p.value(steps).toInt(&ok);
        if (!ok || o->steps < 0) {
            *error = QStringLiteral("--steps: \"%1\" is not a non-negative number").arg(p.value(steps));
            return false;
        }
    }
    if (p.isSet(rightRun)) {
        const QString spec = p.value(rightRun);
        if (spec != QStringLiteral("none")) {
            if (auto parsed = parse_cache_variant(spec.toStdString()); !parsed) {
                *error = QStringLiteral("--right-run: %1").arg(QString::fromStdString(parsed.message()));
                return false;
            }
        }
        o->rightRun = spec == QStringLiteral("none") ? QString() : spec;
    }
    o->freeRunning = p.isSet(freeRunning);
    if (p.isSet(mode)) {
        const QString m = p.value(mode).toLower();
        if (m == QStringLiteral("lockstep"))
            o->mode = CompareMode::lockstep;
        else if (m == QStringLiteral("race"))
            o->mode = CompareMode::race;
        else {
            *error = QStringLiteral("--mode: \"%1\" is neither lockstep nor race").arg(p.value(mode));
            return false;
        }
    }
    if (p.isSet(theme)) {
        ThemeKind k;
        if (!parseThemeKind(p.value(theme), &k)) {
            *error = QStringLiteral("--theme: \"%1\" is not dark, light or projector").arg(p.value(theme));
            return false;
        }
        o->theme = k;
    }
    if (p.isSet(fontScale)) {
        bool ok = false;
        const float s = p.value(fontScale).toFloat(&ok);
        if (!ok || s < 0.6f || s > 3.0f) {
            *error =
                QStringLiteral("--font-scale: \"%1\" is not a number from 0.6 to 3").arg(p.value(fontScale));
            return false;
        }
        o->fontScale = s;
    }
    return true;
}

}  // namespace kvscope::app
