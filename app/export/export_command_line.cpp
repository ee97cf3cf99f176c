#include "export/export_command_line.h"

#include <QCommandLineParser>
#include <QFileInfo>

#include "export/export_io.h"
#include "kvscope/cache_policy.h"
#include "kvscope/scale.h"

namespace kvscope::app {
namespace {

QList<QCommandLineOption> options() {
    auto value = [](const char* name, const char* help, const char* valueName) {
        return QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help),
                                  QString::fromLatin1(valueName));
    };
    return {
        value("model", "the model file or folder (default: the embedded model)", "file"),
        value("prompt", "the prompt (text, or token ids for a model without a tokenizer)", "text"),
        value("steps",
              "tokens to generate after the prompt: the prefill (step 0), then n decode steps (as "
              "`kvscope --steps n` in the window)",
              "n"),
        value("out", "the file (or, for png-frames, the folder) to write", "path"),
        value("format", "mp4, gif, png-frames, png, svg, csv or json (default: from --out)", "format"),
        value("view",
              "side-by-side, pane, kv-cache, attention, counters, plots, tokens, scale, roofline, complexity "
              "or "
              "first-token (measures prompts of 16, 32, … tokens first)",
              "view"),
        value("context", "scale: tokens per conversation (1K … 1M, e.g. 128K)", "n"),
        value("precision", "scale: weights and cache, f32, f16, bf16, f8 or int4", "p"),
        value("kv-precision", "scale: the cache only", "p"),
        value("conversations", "scale: conversations decoded together", "n"),
        value("scale-model", "scale: the model looked at (a name of the reference catalog)", "name"),
        value("accelerator", "scale: the accelerator the narration speaks of", "name"),
        value("run", "for one-run views: cached or uncached", "run"),
        value("layer", "the layer shown by kv-cache and attention", "n"),
        value("head", "the attention head, or all", "n|all"),
        value("size", "1080p, 720p, square or WIDTHxHEIGHT", "size"),
        value("fps", "frames per second (MP4 30, GIF 15)", "n"),
        value("frames-per-step", "frames each step is shown for (default: half a second)", "n"),
        value("first-step", "the first step shown (0: the prefill)", "n"),
        value("last-step", "the last step shown (default: the last one run)", "n"),
        value("still-step", "png and svg: the step drawn (default: the last one)", "n"),
        value("theme", "light (slides), dark or projector", "theme"),
        value("font-scale", "text size, 1 = the app's", "x"),
        value("title", "a title drawn on every frame", "text"),
        value("caption", "a caption drawn on every frame", "text"),
        QCommandLineOption(QStringLiteral("narrate"),
                           QStringLiteral("caption each step with what it did, in a sentence or two (after "
                                          "--caption, if given)")),
        value("animation", "on: each step's arrival plays over its first frames; off: still frames",
              "on|off"),
        value("seed", "the sampler's seed", "n"),
        value("right-run",
              "the right pane's run: none (no KV cache) or a cache variant (int4, sinks:S=4,W=60, ...)",
              "spec"),
        value("temperature", "sampling temperature (0: greedy)", "t"),
        QCommandLineOption(QStringLiteral("force"), QStringLiteral("replace --out if it exists")),
    };
}

Result<long long> integer(const QCommandLineParser& p, const char* name, long long low, long long high) {
    const QString text = p.value(QString::fromLatin1(name));
    bool ok = false;
    const long long v = text.toLongLong(&ok);
    if (!ok || v < low || v > high)
        return exportFailure(QStringLiteral("--%1 %2: expected a whole number from %3 to %4")
                                 .arg(QLatin1String(name), text)
                                 .arg(low)
                                 .arg(high));
    return v;
}

Result<double> number(const QCommandLineParser& p, const char* name, double low, double high) {
    const QString text = p.value(QString::fromLatin1(name));
    bool ok = false;
    const double v = text.toDouble(&ok);
    if (!ok || !(v >= low && v <= high))
        return exportFailure(QStringLiteral("--%1 %2: expected a number from %3 to %4")
                                 .arg(QLatin1String(name), text)
                                 .arg(low)
                                 .arg(high));
    return v;
}

// Reads an optional integer option into `target`.
Status readInt(const QCommandLineParser& p, const char* name, long long low, long long high, int& target) {
    if (!p.isSet(QString::fromLatin1(name))) return Status::ok();
    Result<long long> v = integer(p, name, low, high);
    if (!v) return v.status();
    target = int(*v);
    return Status::ok();
}

}  // namespace

QString exportCommandUsage() {
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("kvscope export: an animation, a still or the counters of a run, "
                       "without a window"));
    p.addOptions(options());
    return p.helpText();
}

Result<ExportCommand> parseExportCommand(const QStringList& arguments) {
    QCommandLineParser p;
    p.addOptions(options());
    if (!p.parse(arguments)) return exportFailure(p.errorText());
    if (!p.positionalArguments().isEmpty())
        return exportFailure(QStringLiteral("unexpected argument '%1'").arg(p.positionalArguments().first()));
    for (const char* required : {"prompt", "steps", "out"})
        if (!p.isSet(QString::fromLatin1(required)))
            return exportFailure(QStringLiteral("--%1 is required").arg(QLatin1String(required)));

    ExportCommand c;
    c.model = p.value(QStringLiteral("model"));
    c.prompt = p.value(QStringLiteral("prompt"));
    if (p.isSet(QStringLiteral("right-run")) &&
        p.value(QStringLiteral("right-run")) != QLatin1String("none")) {
        c.rightRun = p.value(QStringLiteral("right-run"));
        if (auto v = parse_cache_variant(c.rightRun.toStdString()); !v)
            return exportFailure(QStringLiteral("--right-run: %1").arg(QString::fromStdString(v.message())));
    }
    ExportSettings& e = c.settings;
    e.out = p.value(QStringLiteral("out"));
    e.force = p.isSet(QStringLiteral("force"));
    Result<long long> steps = integer(p, "steps", 0, 100000);
    if (!steps) return steps.status();
    c.steps = int(*steps);

    if (p.isSet(QStringLiteral("format"))) {
        Result<ExportFormat> f = parseFormat(p.value(QStringLiteral("format")));
        if (!f) return f.status();
        e.format = *f;
    } else {
        const QString suffix = QFileInfo(e.out).suffix();
        const std::optional<ExportFormat> f = formatFromName(suffix);
        if (!f || suffix.isEmpty() || writesFolder(*f))
            return exportFailure(QStringLiteral("cannot tell the format from '%1': add --format (%2)")
                                     .arg(e.out, formatNames().join(QStringLiteral(", "))));
        e.format = *f;
    }
    if (p.isSet(QStringLiteral("view"))) {
        Result<ExportView> v = parseView(p.value(QStringLiteral("view")));
        if (!v) return v.status();
        e.view = *v;
    }
    if (p.isSet(QStringLiteral("run"))) {
        const QString run = p.value(QStringLiteral("run"));
        if (run != QLatin1String("cached") && run != QLatin1String("uncached"))
            return exportFailure(QStringLiteral("--run %1: use cached or uncached").arg(run));
        e.uncachedRun = run == QLatin1String("uncached");
    }
    KVSCOPE_TRY(readInt(p, "layer", 0, 1 << 20, e.layer));
    if (p.isSet(QStringLiteral("head"))) {
        e.allHeads = p.value(QStringLiteral("head")) == QLatin1String("all");
        if (!e.allHeads) KVSCOPE_TRY(readInt(p, "head", 0, 1 << 20, e.head));
    }
    if (p.isSet(QStringLiteral("size"))) {
        Result<QSize> s = parseExportSize(p.value(QStringLiteral("size")));
        if (!s) return s.status();
        e.size = *s;
    }
    e.fps = e.format == ExportFormat::gif ? 15 : 30;
    KVSCOPE_TRY(readInt(p, "fps", 1, kMaxVideoFps, e.fps));
    e.framesPerStep = std::max(1, e.fps / 2);
    KVSCOPE_TRY(readInt(p, "frames-per-step", 1, 600, e.framesPerStep));
    KVSCOPE_TRY(readInt(p, "first-step", 0, 100000, e.firstStep));
    KVSCOPE_TRY(readInt(p, "last-step", 0, 100000, e.lastStep));
    KVSCOPE_TRY(readInt(p, "still-step", 0, 100000, e.stillStep));
    const int lastRun = c.steps;  // step 0 is the prefill, then one step per generated token
    if (e.lastStep > lastRun || e.firstStep > (e.lastStep < 0 ? lastRun : e.lastStep))
        return exportFailure(QStringLiteral("steps %1 to %2: the run has steps 0 (the prefill) to %3")
                                 .arg(e.firstStep)
                                 .arg(e.lastStep < 0 ? lastRun : e.lastStep)
                                 .arg(lastRun));
    if (e.stillStep > lastRun)
        return exportFailure(QStringLiteral("--still-step %1: the run has steps 0 (the prefill) to %2")
                                 .arg(e.stillStep)
                                 .arg(lastRun));
    if (p.isSet(QStringLiteral("theme"))) {
        e.theme = p.value(QStringLiteral("theme"));
        if (!QStringList{QStringLiteral("light"), QStringLiteral("dark"), QStringLiteral("projector")}
                 .contains(e.theme))
            return exportFailure(QStringLiteral("--theme %1: use light, dark or projector").arg(e.theme));
    }
    if (p.isSet(QStringLiteral("font-scale"))) {
        Result<double> s = number(p, "font-scale", 0.25, 8.0);
        if (!s) return s.status();
        e.fontScale = *s;
    }
    if (p.isSet(QStringLiteral("temperature"))) {
        Result<double> t = number(p, "temperature", 0.0, 10.0);
        if (!t) return t.status();
        c.temperature = float(*t);
    }
    if (p.isSet(QStringLiteral("seed"))) {
        bool ok = false;
        c.seed = p.value(QStringLiteral("seed")).toULongLong(&ok);
        if (!ok)
            return exportFailure(
                QStringLiteral("--seed %1: expected a whole number").arg(p.value(QStringLiteral("seed"))));
    }
    if (p.isSet(QStringLiteral("animation"))) {
        const QString a = p.value(QStringLiteral("animation"));
        if (a != QLatin1String("on") && a != QLatin1String("off"))
            return exportFailure(QStringLiteral("--animation %1: use on or off").arg(a));
        e.animate = a == QLatin1String("on");
    }
    if (p.isSet(QStringLiteral("context"))) {
        const QString ctx = p.value(QStringLiteral("context"));
        const auto n = parse_token_count(ctx.toStdString());
        if (!n || *n < 1024 || *n > 1048576)
            return exportFailure(
                QStringLiteral("--context %1: expected 1K to 1M tokens (e.g. 4096, 128K, 1M)").arg(ctx));
        e.scaleContext = ctx;
    }
    for (const char* name : {"precision", "kv-precision"}) {
        if (!p.isSet(QString::fromLatin1(name))) continue;
        const QString v = p.value(QString::fromLatin1(name));
        if (!parse_precision(v.toStdString()))
            return exportFailure(
                QStringLiteral("--%1 %2: use f32, f16, bf16, f8 or int4").arg(QLatin1String(name), v));
        if (QLatin1String(name) == QLatin1String("precision")) e.scaleWeights = v;
        e.scaleKv = v;
    }
    if (p.isSet(QStringLiteral("precision")) && p.isSet(QStringLiteral("kv-precision")))
        e.scaleKv = p.value(QStringLiteral("kv-precision"));
    KVSCOPE_TRY(readInt(p, "conversations", 1, 1024, e.scaleConversations));
    if (p.isSet(QStringLiteral("scale-model"))) e.scaleModel = p.value(QStringLiteral("scale-model"));
    if (p.isSet(QStringLiteral("accelerator"))) e.scaleAccelerator = p.value(QStringLiteral("accelerator"));
    e.title = p.value(QStringLiteral("title"));
    e.caption = p.value(QStringLiteral("caption"));
    e.narrate = p.isSet(QStringLiteral("narrate"));
    // What the encoders would refuse, refused now: before a model is loaded or a step is run.
    KVSCOPE_TRY(validateFrameSize(e.format, e.size));
    if (isAnimation(e.format)) KVSCOPE_TRY(validateFps(e.format, e.fps));
    return c;
}

}  // namespace kvscope::app
