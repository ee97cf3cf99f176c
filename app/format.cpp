#include "format.h"

#include <QCoreApplication>
#include <cmath>

namespace kvscope::app {

namespace {
// Three significant digits: 1.23, 12.3, 123.
QString sig3(double v) {
    const double a = std::fabs(v);
    const int decimals = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    return QString::number(v, 'f', decimals);
}
}  // namespace

QString formatSi(double value, const char* unit) {
    static const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
    int i = 0;
    double v = value;
    while (std::fabs(v) >= 999.5 && i < 5) {
        v /= 1000.0;
        ++i;
    }
    if (i == 0) return QStringLiteral("%1 %2").arg(QString::number(std::llround(v))).arg(QLatin1String(unit));
    return QStringLiteral("%1 %2%3").arg(sig3(v)).arg(QLatin1String(prefixes[i])).arg(QLatin1String(unit));
}

QString tr(const char* text) {
    return QCoreApplication::translate("kvscope", text);
}

QString formatFlops(double flops) {
    return formatSi(flops, "FLOP");
}

QString formatBytes(double bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    double v = bytes;
    while (std::fabs(v) >= 1023.5 && i < 4) {
        v /= 1024.0;
        ++i;
    }
    if (i == 0) return QStringLiteral("%1 B").arg(std::llround(v));
    return QStringLiteral("%1 %2").arg(sig3(v)).arg(QLatin1String(units[i]));
}

QString formatSeconds(double s) {
    if (!(s >= 0)) return QStringLiteral("–");
    if (s == 0) return QStringLiteral("0 s");
    if (s < 1e-3) return QStringLiteral("%1 µs").arg(sig3(s * 1e6));
    if (s < 1.0) return QStringLiteral("%1 ms").arg(sig3(s * 1e3));
    return QStringLiteral("%1 s").arg(sig3(s));
}

QString formatCount(uint64_t n) {
    QString digits = QString::number(n);
    QString out;
    for (int i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += QChar(0x2009);  // thin space
        out += digits[i];
    }
    return out;
}

QString formatRate(double r) {
    if (!(r > 0) || !std::isfinite(r)) return QStringLiteral("–");
    if (r >= 1000) return formatCount(uint64_t(std::llround(r)));
    return sig3(r);
}

}  // namespace kvscope::app
