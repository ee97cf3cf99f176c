// format.h — numbers as people read them on a projector: 1.23 GFLOP, 37.5 KiB, 4.2 ms, 2 380 tok/s.
#pragma once

#include <QString>
#include <cstdint>

namespace kvscope::app {

QString formatFlops(double flops);                 // "812 FLOP", "1.23 MFLOP", "4.5 GFLOP"
QString formatBytes(double bytes);                 // "512 B", "37.5 KiB", "1.20 MiB"
QString formatSeconds(double seconds);             // "85 µs", "4.2 ms", "1.23 s"
QString formatCount(uint64_t n);                   // "12 345" (thin spaces)
QString formatRate(double perSecond);              // "2 380", "12.5", "0.8"
QString formatSi(double value, const char* unit);  // "1.23 G" + unit

// Translatable text outside QObject classes (views, narration).
QString tr(const char* text);

}  // namespace kvscope::app
