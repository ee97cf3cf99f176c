// ui_benchmark.h — `kvscope --benchmark-ui FILE`: how responsive the GUI stays while both runs step as
// fast as the engine goes, from the prompt to the end of the context (lockstep, then race).
//
// Measured on the GUI thread. A 60 Hz heartbeat asks every view to repaint (as an animation would);
// for each heartbeat the frame time is the time from the tick to the moment the last view's frame was
// presented, which includes every queued step result the GUI thread had to take in first (store
// appends, texture uploads) and the painting of every view (with a software OpenGL, the rasterisation
// too). The GUI thread's own CPU time over the same span, and the heartbeat's lateness (how long the
// GUI thread was busy when the timer was due), are recorded too. Results: median, 95th and 99th
// percentile and maximum, as JSON, with the model, the steps taken and the machine.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <vector>

#include "run_types.h"

namespace kvscope::app {

class MainWindow;
class GlView;

class UiBenchmark : public QObject {
    Q_OBJECT
  public:
    UiBenchmark(MainWindow& window, QString outputFile, QObject* parent = nullptr);
    void start();  // once the model is loaded

  signals:
    void finished(int exitCode);

  private:
    struct Phase {
        QString name;
        std::vector<double> frameMs, lateMs, cpuMs;
        int steps = 0;
        double seconds = 0;
        int tokensAtStart = 0;  // idle: the sequence drawn; lockstep and race: the prompt they start from
        // At the end of the phase: what the history of both runs holds (TraceStore::bytesHeld) and the
        // process's resident memory now and at its peak so far (/proc/self/status VmRSS, VmHWM).
        double historyMiB = 0, rssMiB = 0, peakRssMiB = 0;
    };
    void beginPhase(CompareMode mode);
    void heartbeat();
    void onFrameSwapped(GlView* view);
    void checkDone();
    void report(Phase& phase);  // closes the phase's memory figures and prints a line
    void finish();

    MainWindow& m_window;
    QString m_output;
    QTimer m_heartbeat;
    QElapsedTimer m_clock;
    std::vector<Phase> m_phases;
    double m_tickAt = -1, m_lastTick = -1, m_tickCpu = 0;
    QSet<GlView*> m_pending;  // views asked to repaint at the last tick that have not presented yet
    int m_phaseIndex = -1;
    bool m_recording = false;  // the idle phase: frames count without play
};

}  // namespace kvscope::app
