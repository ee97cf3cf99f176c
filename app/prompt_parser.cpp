#include "prompt_parser.h"

#include <QRegularExpression>
#include <QStringList>

namespace kvscope::app {

namespace {

Result<std::vector<int32_t>> parseIds(const QString& text, const PromptRules& rules) {
    const QStringList items = text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts);
    std::vector<int32_t> ids;
    for (int i = 0; i < items.size(); ++i) {
        QString item = items[i];
        if (item.startsWith(QLatin1Char('#'))) item.remove(0, 1);
        bool ok = false;
        const qlonglong id = item.toLongLong(&ok);
        if (!ok)
            return Status::error(
                QObject::tr("This model has no tokenizer, so the prompt is typed as token ids "
                            "separated by commas (for example 1, 15, 27). Item %1 (\"%2\") is not "
                            "a number.")
                    .arg(i + 1)
                    .arg(items[i])
                    .toStdString());
        if (id < 0 || id >= rules.vocabSize)
            return Status::error(
                QObject::tr("Token id %1 (item %2) is outside this model's vocabulary of %3 tokens "
                            "(ids 0 to %4).")
                    .arg(id)
                    .arg(i + 1)
                    .arg(rules.vocabSize)
                    .arg(rules.vocabSize - 1)
                    .toStdString());
        ids.push_back(int32_t(id));
    }
    return ids;
}

}  // namespace

Result<std::vector<int32_t>> parsePrompt(const QString& text, const PromptRules& rules) {
    if (text.trimmed().isEmpty())
        return Status::error(
            QObject::tr("The prompt is empty. Type %1 to run through the model, then press Step.")
                .arg(rules.tokenizer ? QObject::tr("some text") : QObject::tr("some token ids"))
                .toStdString());
    Result<std::vector<int32_t>> ids =
        rules.tokenizer ? rules.tokenizer->encode(text.toStdString(), true) : parseIds(text, rules);
    if (!ids) return ids;
    if (ids->empty())
        return Status::error(
            QObject::tr("The prompt encodes to no tokens at all; type some text.").toStdString());
    if (rules.capacity > 0 && int(ids->size()) >= rules.capacity)
        return Status::error(
            QObject::tr("The prompt is %1 tokens long, but a run holds at most %2 tokens (the "
                        "model's context), and at least one must be left to generate. Shorten "
                        "the prompt to %3 tokens or fewer.")
                .arg(ids->size())
                .arg(rules.capacity)
                .arg(rules.capacity - 1)
                .toStdString());
    return ids;
}

QString promptHint(const PromptRules& rules) {
    if (rules.tokenizer)
        return QObject::tr("Type a prompt, e.g. “ROMEO: But soft, what light”, then press Step");
    return QObject::tr("This model has no tokenizer: type token ids, e.g. 1, 15, 27, 99 — then press Step");
}

}  // namespace kvscope::app
