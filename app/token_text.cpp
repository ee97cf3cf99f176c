#include "token_text.h"

#include <QStringDecoder>

namespace kvscope::app {

namespace {

QString visibleWhitespace(const QString& s) {
    QString out;
    out.reserve(s.size());
    for (QChar c : s) {
        switch (c.unicode()) {
            case ' ':
                out += QChar(0x00B7);
                break;  // ·
            case '\n':
                out += QChar(0x21B5);
                break;  // ↵
            case '\t':
                out += QChar(0x21E5);
                break;  // ⇥
            case '\r':
                out += QStringLiteral("\\r");
                break;
            default:
                if (c.unicode() < 0x20)
                    out += QString::asprintf("<0x%02X>", unsigned(c.unicode()));
                else
                    out += c;
        }
    }
    return out;
}

}  // namespace

QString tokenLabel(const Tokenizer* tokenizer, int32_t id, bool first) {
    if (!tokenizer || id < 0 || id >= tokenizer->vocab_size()) return QStringLiteral("#%1").arg(id);
    const std::string bytes = tokenizer->token_bytes(id, first);
    if (bytes.empty()) return QStringLiteral("#%1").arg(id);
    QStringDecoder decode(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decode(QByteArray::fromStdString(bytes));
    if (decode.hasError()) {
        QString hex;
        for (unsigned char b : bytes)
            hex += QString::asprintf("<0x%02X>", unsigned(b));
        return hex;
    }
    return visibleWhitespace(text);
}

QString tokenQuoted(const Tokenizer* tokenizer, int32_t id, bool first) {
    if (!tokenizer) return QStringLiteral("#%1").arg(id);
    return QStringLiteral("“%1” (#%2)").arg(tokenLabel(tokenizer, id, first)).arg(id);
}

}  // namespace kvscope::app
