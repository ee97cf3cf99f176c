#include "lessons/lesson_pack.h"

#include <QAbstractTextDocumentLayout>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QFontDatabase>
#include <QPainter>
#include <QPdfWriter>
#include <QRegularExpression>
#include <QTextDocument>
#include <QTimer>
#include <atomic>
#include <cmath>

#include "conversations/conversations_panel.h"
#include "export/export_control.h"
#include "export/exporter.h"
#include "export/pending_output.h"
#include "export/video_encoders.h"
#include "export/view_frames.h"
#include "export/view_svg.h"
#include "headless_run.h"
#include "lessons/lesson_book.h"
#include "lessons/lesson_text.h"
#include "trace_store.h"
#include "views/gl_view.h"

namespace kvscope::app {

namespace {

Status fail(const QString& message) {
    return Status::error(message.toStdString());
}

// The clip of a chapter: which frame of the view's own timeline each of its frames shows, and with which
// caption (filled with the numbers of the step on screen).
struct ClipPlan {
    QStringList captions;
    struct Frame {
        int viewFrame;
        int caption;
    };
    std::vector<Frame> frames;
    QString lastCaption;
};

// The step each page ends on (its action done): a page that asks for no step stays where the run is.
std::vector<int> pageEndSteps(const LessonChapter& c) {
    std::vector<int> ends;
    int cursor = -1;
    for (const LessonPage& p : c.pages) {
        if (p.action.kind == LessonActionKind::step) cursor += p.action.times;
        if (p.action.kind == LessonActionKind::prefill) cursor = 0;
        ends.push_back(std::max(cursor, 0));
    }
    return ends;
}

// A chapter text with the numbers of `step` (plain text or HTML). `where` names it in errors.
// The Conversations view's results for the chapter being written (null members where it names none).
ConversationsResults g_conversations;

Result<QString> fillAt(TraceStore& store, int step, const QString& text, LessonTextFormat format,
                       const QString& where) {
    store.selectStep(step);
    Result<FilledText> f = fillLessonText(text, &store, format, nullptr, &g_conversations);
    if (!f)
        return fail(QStringLiteral("%1 at step %2: %3")
                        .arg(where)
                        .arg(step)
                        .arg(QString::fromStdString(f.message())));
    return f->text;
}

Result<ClipPlan> planClip(const LessonChapter& c, TraceStore& store, int framesPerStep, int holdFrames) {
    ClipPlan plan;
    auto captionIndex = [&](const QString& text) {
        const int i = int(plan.captions.indexOf(text));
        if (i >= 0) return i;
        plan.captions << text;
        return int(plan.captions.size() - 1);
    };
    int cursor = -1;
    for (int i = 0; i < c.pages.size(); ++i) {
        const LessonPage& p = c.pages[i];
        const QString where = QStringLiteral("%1, page %2, caption").arg(c.file).arg(i + 1);
        int newSteps = p.action.kind == LessonActionKind::step ? p.action.times : 0;
        if (p.action.kind == LessonActionKind::prefill && cursor < 0) newSteps = 1;
        for (int k = 0; k < newSteps; ++k) {
            ++cursor;
            Result<QString> caption = fillAt(store, cursor, p.caption, LessonTextFormat::plain, where);
            if (!caption) return caption.status();
            const int ci = captionIndex(*caption);
            for (int j = 0; j < framesPerStep; ++j)
                plan.frames.push_back({cursor * framesPerStep + j, ci});
        }
        const int at = std::max(cursor, 0);
        Result<QString> caption = fillAt(store, at, p.caption, LessonTextFormat::plain, where);
        if (!caption) return caption.status();
        const int ci = captionIndex(*caption);
        for (int j = 0; j < holdFrames; ++j)
            plan.frames.push_back({at * framesPerStep + framesPerStep - 1, ci});
        plan.lastCaption = *caption;
    }
    return plan;
}

// Frames of a chapter's clip, drawn by the export's ViewFrames with the caption of each frame.
class LessonFrames : public FrameSource {
  public:
    LessonFrames(ViewFrames& view, const ClipPlan& plan) : m_view(view), m_plan(plan) {}
    int frameCount() const override { return int(m_plan.frames.size()); }
    QSize frameSize() const override { return m_view.frameSize(); }
    Result<QImage> renderFrame(int index) override {
        const ClipPlan::Frame& f = m_plan.frames[size_t(index)];
        m_view.setCaption(m_plan.captions[f.caption], /*large=*/true);
        return m_view.renderFrame(f.viewFrame);
    }

  private:
    ViewFrames& m_view;
    const ClipPlan& m_plan;
};

// Whether a chapter names numbers of the Conversations view (or asks to run it): the pack then runs the
// view's experiments too, in a view of its own that is never shown, as a student pressing Run and Turn 2.
bool usesConversations(const LessonChapter& c, bool* turn) {
    QStringList texts{c.question, c.answer};
    bool any = false;
    *turn = false;
    for (const LessonPage& p : c.pages) {
        texts << p.text << p.notice << p.caption;
        if (p.action.kind == LessonActionKind::runConversations) any = true;
        if (p.action.kind == LessonActionKind::secondTurn) *turn = any = true;
    }
    for (const QString& t : texts)
        for (const QString& name : lessonPlaceholders(t)) {
            if (name.startsWith(QLatin1String("conv."))) any = true;
            if (name.startsWith(QLatin1String("turn."))) *turn = any = true;
        }
    return any;
}

// Runs the Conversations view's conversations (and its second turn) on `model` and waits for the results.
Status runConversations(ConversationsPanel& view, const ModelInfo& model, bool turn) {
    view.setModel(model);
    view.setStepDelayMs(0);
    QEventLoop loop;
    QString error;
    QTimer limit;
    limit.setSingleShot(true);
    QObject::connect(&limit, &QTimer::timeout, &loop, [&] {
        error = QStringLiteral("the Conversations view did not finish in 10 minutes");
        loop.quit();
    });
    QObject::connect(&view, &ConversationsPanel::failed, &loop, [&](const QString& m) {
        error = m;
        loop.quit();
    });
    QObject::connect(&view, &ConversationsPanel::snapshotShown, &loop, [&] {
        if (view.lastSnapshot() && view.lastSnapshot()->finished) loop.quit();
    });
    QObject::connect(&view, &ConversationsPanel::turnShown, &loop, &QEventLoop::quit);
    limit.start(600000);
    view.runDemo();
    if (!view.lastSnapshot() || !view.lastSnapshot()->finished) loop.exec();
    if (error.isEmpty() && turn) {
        view.measureTurn();
        if (!view.lastTurn()) loop.exec();
    }
    if (!error.isEmpty()) return Status::error(("Conversations view: " + error).toStdString());
    if (!view.lastSnapshot() || !view.lastSnapshot()->finished || (turn && !view.lastTurn()))
        return Status::error("the Conversations view gave no result");
    return Status::ok();
}

QString chapterTitle(const LessonChapter& c) {
    return QStringLiteral("Chapter %1 — %2").arg(c.number).arg(c.title);
}

// The chapter's text for the handout: every page's text and what to notice, each with the numbers of the
// step the page ends on, then the question (the answer goes at the foot).
Result<QString> handoutBody(const LessonChapter& c, TraceStore& store, const std::vector<int>& ends) {
    QString html;
    for (int i = 0; i < c.pages.size(); ++i) {
        const LessonPage& p = c.pages[i];
        const QString where = QStringLiteral("%1, page %2").arg(c.file).arg(i + 1);
        Result<QString> text = fillAt(store, ends[size_t(i)], p.text, LessonTextFormat::html, where);
        if (!text) return text.status();
        html += *text;
        if (!p.notice.isEmpty()) {
            Result<QString> notice = fillAt(store, ends[size_t(i)], p.notice, LessonTextFormat::html, where);
            if (!notice) return notice.status();
            html += QStringLiteral("<div style=\"margin-left: 12px; color: #1f4e5a;\">%1</div>").arg(*notice);
        }
    }
    return html;
}

Status writeHandout(const QString& path, const LessonChapter& c, const QImage& still, const QString& body,
                    const QString& question, const QString& answer, const QString& modelName) {
    QPdfWriter pdf(path);
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageMargins(QMarginsF(14, 12, 14, 12), QPageLayout::Millimeter);
    pdf.setResolution(300);
    pdf.setTitle(chapterTitle(c));
    pdf.setCreator(QStringLiteral("KVScope"));
    QPainter painter;
    if (!painter.begin(&pdf)) return fail(QStringLiteral("%1: cannot write a PDF there").arg(path));
    const QRect page(QPoint(0, 0), pdf.pageLayout().paintRectPixels(pdf.resolution()).size());
    const double mm = pdf.resolution() / 25.4;

    QFont heading(QStringLiteral("DejaVu Sans"));
    heading.setBold(true);
    heading.setPointSizeF(15);
    painter.setFont(heading);
    QRect titleRect(page.left(), page.top(), page.width(), int(12 * mm));
    painter.drawText(titleRect, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, chapterTitle(c));
    QFont small(QStringLiteral("DejaVu Sans"));
    small.setPointSizeF(7.5);
    painter.setFont(small);
    painter.setPen(QColor(0x55, 0x55, 0x55));
    painter.drawText(
        QRect(page.left(), titleRect.bottom(), page.width(), int(5 * mm)), Qt::AlignLeft,
        QStringLiteral("KVScope guided lessons · live numbers from %1 · prompt: %2")
            .arg(modelName, c.prompt.left(90) + (c.prompt.size() > 90 ? QStringLiteral("…") : QString())));
    painter.setPen(Qt::black);
    int y = titleRect.bottom() + int(7 * mm);
    // The still, at most 40% of the page's height.
    QSize imageSize = still.size().scaled(page.width(), int(page.height() * 0.40), Qt::KeepAspectRatio);
    painter.drawImage(QRect(QPoint(page.left() + (page.width() - imageSize.width()) / 2, y), imageSize),
                      still);
    y += imageSize.height() + int(4 * mm);

    // The text, in the largest type that fits the rest of the page (at least 6 pt).
    QString html = QStringLiteral(
                       "<body>%1<h3>Question</h3><p><b>%2</b></p><p>&nbsp;</p>"
                       "<p style=\"font-size: small; color: #555555;\"><i>Answer: %3</i></p></body>")
                       .arg(body, question, answer);
    QTextDocument doc;
    doc.documentLayout()->setPaintDevice(&pdf);
    // Glossary links lead nowhere on paper: their words stay, in plain type.
    static const QRegularExpression link(QStringLiteral("<a href=\"glossary:[^\"]*\">(.*?)</a>"));
    html.replace(link, QStringLiteral("\\1"));
    doc.setDefaultStyleSheet(QStringLiteral("p { margin: 0 0 5px 0; } h3 { margin: 6px 0 2px 0; }"));
    doc.setTextWidth(page.width());
    const int available = page.bottom() - y;
    double pt = 11.0;
    for (;; pt -= 0.25) {
        QFont f(QStringLiteral("DejaVu Sans"));
        f.setPointSizeF(pt);
        doc.setDefaultFont(f);
        doc.setHtml(html);
        if (doc.size().height() <= available || pt <= 6.0) break;
    }
    if (doc.size().height() > available)
        return fail(QStringLiteral("%1: the chapter's text does not fit one page even at 6 pt").arg(c.file));
    painter.translate(page.left(), y);
    doc.drawContents(&painter);
    painter.end();
    return Status::ok();
}

QString slugOf(const LessonChapter& c) {
    return QFileInfo(c.file).completeBaseName();
}

}  // namespace

Result<QList<int>> parseLessonChapters(const QString& text, const LessonBook& book) {
    QList<int> out;
    if (text == QLatin1String("all")) {
        for (const LessonChapter& c : book.chapters)
            out << c.number;
        return out;
    }
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int n = part.trimmed().toInt(&ok);
        if (!ok || n < 1 || n > book.chapters.size())
            return fail(
                QStringLiteral("--lesson %1: use all, or chapter numbers from 1 to %2 separated by commas")
                    .arg(text)
                    .arg(book.chapters.size()));
        if (!out.contains(n)) out << n;
    }
    if (out.isEmpty()) return fail(QStringLiteral("--lesson: name at least one chapter, or all"));
    return out;
}

Result<LessonPackResult> writeLessonPack(const LessonBook& book, const LessonPackOptions& options,
                                         const LessonPackProgress& progress) {
    QList<int> chapters = options.chapters;
    if (chapters.isEmpty())
        for (const LessonChapter& c : book.chapters)
            chapters << c.number;
    for (int n : chapters)
        if (n < 1 || n > book.chapters.size()) return fail(QStringLiteral("there is no chapter %1").arg(n));
    if (options.fps < 1 || options.fps > 50)
        return fail(QStringLiteral("fps %1: use 1 to 50").arg(options.fps));
    Result<std::unique_ptr<PendingOutput>> pending =
        PendingOutput::create(options.out, PendingOutput::Kind::folder, options.force);
    if (!pending) return pending.status();
    const QDir dir((*pending)->temporaryPath());
    for (const char* font : {":/fonts/DejaVuSans.ttf", ":/fonts/DejaVuSans-Bold.ttf"})
        QFontDatabase::addApplicationFont(QString::fromLatin1(font));

    std::atomic<bool> cancel{false};
    const int total = int(chapters.size()) * 6;
    int done = 0;
    auto report = [&](const QString& stage) {
        if (progress && !progress(stage, done, total)) cancel.store(true);
        return !cancel.load();
    };
    const int framesPerStep = std::max(1, int(std::lround(options.stepSeconds * options.fps)));
    const int holdFrames = std::max(1, int(std::lround(options.holdSeconds * options.fps)));
    LessonPackResult result;
    QString index;
    QString modelName;

    // The Conversations view of the chapter being written, if it needs one (usesConversations()).
    std::unique_ptr<DisplaySettings> convDisplay;
    std::unique_ptr<ConversationsPanel> convView;
    struct Forget {
        ~Forget() { g_conversations = ConversationsResults{}; }
    } forget;
    for (int number : chapters) {
        const LessonChapter& c = book.chapters[number - 1];
        const QString slug = slugOf(c);
        const QString title = chapterTitle(c);
        if (!report(QStringLiteral("%1: running the model").arg(slug))) break;
        TraceStore store;
        HeadlessRun run;
        run.model = options.model;
        run.prompt = c.prompt;
        run.steps = c.stepsAskedFor() - 1;
        run.rightRun = c.rightRun();
        if (Status ran = runHeadless(run, store); !ran)
            return fail(QStringLiteral("%1: %2").arg(c.file, QString::fromStdString(ran.message())));
        modelName = store.model().displayName;
        // Chapters on many conversations: the Conversations view's numbers, measured here on the same model.
        g_conversations = ConversationsResults{};
        convView.reset();
        bool turn = false;
        if (usesConversations(c, &turn)) {
            if (!convDisplay) convDisplay = std::make_unique<DisplaySettings>();
            convView = std::make_unique<ConversationsPanel>(*convDisplay);
            if (Status ran = runConversations(*convView, store.model(), turn); !ran)
                return fail(QStringLiteral("%1: %2").arg(c.file, QString::fromStdString(ran.message())));
            g_conversations.snapshot = &*convView->lastSnapshot();
            if (convView->lastTurn()) g_conversations.turn = &*convView->lastTurn();
        }
        const ExportHistory history = ExportHistory::of(store);
        const int lastStep = history.stepCount() - 1;
        ++done;

        Result<ClipPlan> plan = planClip(c, store, framesPerStep, holdFrames);
        if (!plan) return plan.status();
        ExportSettings s;
        Result<ExportView> view = parseView(c.exportPlan.view);
        if (!view) return view.status();
        s.view = *view;
        s.layer = c.exportPlan.layer;
        s.head = c.exportPlan.head;
        s.allHeads = c.exportPlan.allHeads;
        s.uncachedRun = c.exportPlan.uncachedRun;
        s.fps = options.fps;
        s.framesPerStep = framesPerStep;
        s.firstStep = 0;
        s.lastStep = lastStep;
        s.stillStep = lastStep;
        s.theme = options.theme;
        s.fontScale = options.fontScale;
        s.title = title;
        if (convView) s.blockMaps = convView->blockMaps();

        // The clips: MP4 for slides, GIF for anything that plays GIFs.
        for (ExportFormat format : {ExportFormat::mp4, ExportFormat::gif}) {
            const bool mp4 = format == ExportFormat::mp4;
            const QString file = slug + (mp4 ? QStringLiteral(".mp4") : QStringLiteral(".gif"));
            if (!report(QStringLiteral("%1: drawing and encoding %2").arg(slug, file))) break;
            s.format = format;
            s.size = mp4 ? options.videoSize : options.gifSize;
            s.out = dir.filePath(file);
            Result<ExportSettings> resolved = resolveExportSettings(s, history);
            if (!resolved)
                return fail(file + QStringLiteral(": ") + QString::fromStdString(resolved.message()));
            Result<std::unique_ptr<ViewFrames>> frames = ViewFrames::create(history, *resolved);
            if (!frames) return fail(file + QStringLiteral(": ") + QString::fromStdString(frames.message()));
            LessonFrames clip(**frames, *plan);
            VideoOptions video;
            video.fps = options.fps;
            ExportControl control(&cancel, {});
            const Status encoded =
                mp4 ? encodeMp4(clip, s.out, video, control) : encodeGif(clip, s.out, video, control);
            if (!encoded)
                return fail(file + QStringLiteral(": ") + QString::fromStdString(encoded.message()));
            result.files << file;
            ++done;
        }
        if (cancel.load()) break;

        // The still: the last step with the last caption, as PNG; its heatmaps as SVG.
        if (!report(QStringLiteral("%1: stills").arg(slug))) break;
        s.format = ExportFormat::png;
        s.size = options.videoSize;
        Result<ExportSettings> stillSettings = resolveExportSettings(s, history);
        if (!stillSettings) return stillSettings.status();
        Result<std::unique_ptr<ViewFrames>> stillFrames = ViewFrames::create(history, *stillSettings);
        if (!stillFrames) return stillFrames.status();
        (*stillFrames)->setCaption(plan->lastCaption, /*large=*/true);
        Result<QImage> still = (*stillFrames)->renderFrame(0);
        if (!still) return fail(slug + QStringLiteral(".png: ") + QString::fromStdString(still.message()));
        const QImage stillImage = still->convertToFormat(QImage::Format_RGB888);
        if (!stillImage.save(dir.filePath(slug + QStringLiteral(".png")), "PNG"))
            return fail(QStringLiteral("%1.png: cannot write it").arg(slug));
        result.files << slug + QStringLiteral(".png");
        ++done;
        // An SVG holds heatmaps: the chapter's view when it draws them, else the KV cache.
        s.format = ExportFormat::svg;
        if (!viewDrawsHeatmaps(s.view)) s.view = ExportView::kvCache;
        Result<ExportSettings> svgSettings = resolveExportSettings(s, history);
        if (!svgSettings) return svgSettings.status();
        Result<SvgPage> svg = viewSvgPage(history, *svgSettings);
        if (!svg) return fail(slug + QStringLiteral(".svg: ") + QString::fromStdString(svg.message()));
        if (Status w = writeHeatmapSvg(*svg, dir.filePath(slug + QStringLiteral(".svg"))); !w)
            return fail(slug + QStringLiteral(".svg: ") + QString::fromStdString(w.message()));
        result.files << slug + QStringLiteral(".svg");
        ++done;

        // The handout.
        if (!report(QStringLiteral("%1: handout").arg(slug))) break;
        const std::vector<int> ends = pageEndSteps(c);
        Result<QString> body = handoutBody(c, store, ends);
        if (!body) return body.status();
        Result<QString> question = fillAt(store, lastStep, c.question, LessonTextFormat::html,
                                          c.file + QStringLiteral(", question"));
        if (!question) return question.status();
        Result<QString> answer =
            fillAt(store, lastStep, c.answer, LessonTextFormat::html, c.file + QStringLiteral(", answer"));
        if (!answer) return answer.status();
        auto inline_ = [](QString html) {  // one paragraph's HTML inside another element
            return html.remove(QStringLiteral("<p>")).replace(QStringLiteral("</p>"), QStringLiteral(" "));
        };
        if (Status w = writeHandout(dir.filePath(slug + QStringLiteral(".pdf")), c, stillImage, *body,
                                    inline_(*question), inline_(*answer), modelName);
            !w)
            return w;
        result.files << slug + QStringLiteral(".pdf");
        ++done;

        QString captions;
        for (const QString& caption : plan->captions)
            captions += QStringLiteral("<li>%1</li>").arg(caption.toHtmlEscaped());
        index +=
            QStringLiteral(
                "<section><h2>%1</h2><p><img src=\"%2.png\" width=\"640\" alt=\"%1\"></p>"
                "<p><a href=\"%2.mp4\">MP4</a> · <a href=\"%2.gif\">GIF</a> · <a href=\"%2.png\">PNG</a> · "
                "<a href=\"%2.svg\">SVG</a> · <a href=\"%2.pdf\">handout (PDF)</a></p>"
                "<p>Prompt: <code>%3</code></p><details><summary>Captions</summary><ol>%4</ol></details>"
                "<p><b>Question.</b> %5</p></section>\n")
                .arg(title.toHtmlEscaped(), slug, c.prompt.toHtmlEscaped(), captions, inline_(*question));
    }
    if (cancel.load()) return fail(QStringLiteral("cancelled; nothing was written"));
    QFile html(dir.filePath(QStringLiteral("index.html")));
    if (!html.open(QIODevice::WriteOnly))
        return fail(QStringLiteral("index.html: cannot write it (%1)").arg(html.errorString()));
    html.write(QStringLiteral(
                   "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>KVScope lessons</title>"
                   "<style>body{font-family:'DejaVu Sans',sans-serif;max-width:720px;margin:2em auto;}"
                   "section{margin-bottom:2.5em;}</style></head><body>\n"
                   "<h1>KVScope: guided lessons on the KV cache</h1>\n"
                   "<p>Every number in these clips and handouts was measured on %1 as the lesson ran.</p>\n%2"
                   "</body></html>\n")
                   .arg(modelName.toHtmlEscaped(), index)
                   .toUtf8());
    html.close();
    result.files << QStringLiteral("index.html");
    if (Status committed = (*pending)->commit(); !committed) return committed;
    result.folder = (*pending)->targetPath();
    for (const QString& f : result.files)
        result.bytes += QFileInfo(QDir(result.folder).filePath(f)).size();
    report(QStringLiteral("done"));
    return result;
}

}  // namespace kvscope::app
