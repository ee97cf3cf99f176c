// conversations_worker.h — the engine side of the Conversations view, on a thread of its own.
//
// It holds a CPU engine on the model the window loaded and runs, on request, the three experiments the
// view shows: several conversations stepped together in a paged cache (prefixes shared) and, beside them,
// the same conversations in contiguous reservations; how many conversations a budget holds under each
// (kvscope/conversations.h); and a chat's second turn timed with and without the first turn's cache.
// Results go back to the GUI thread as values through the callbacks given at construction. It never draws.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "kvscope/batch_session.h"
#include "kvscope/conversations.h"
#include "kvscope/model.h"

namespace kvscope::app {

struct ConversationsRequest {
    std::vector<int32_t> system;                   // the shared system prompt (may be empty)
    std::vector<std::vector<int32_t>> prompts;     // each conversation's own part
    std::vector<int32_t> followUp;                 // turn 2 of the chat demo
    std::vector<std::vector<int32_t>> fitPrompts;  // many different openings, for "how many fit"
    double budgetMiB = 4.0;
    int limit = 512;
    int blockSize = 16;
    int replyTokens = 48;
};

// One moment of the demo: both layouts after the same step.
struct ConversationsSnapshot {
    kvscope::MemoryMap paged, reserved;
    std::vector<std::vector<int32_t>> tokens;  // per conversation (paged run), prompt and reply so far
    std::vector<bool> admittedReserved;        // whether the reservation run found room for it
    kvscope::Counters pagedCounters, reservedCounters;  // all steps so far
    // The same conversations paged without sharing (each prefills the system prompt): what sharing saved.
    kvscope::Counters unsharedCounters;
    QString unsharedFailed;  // why that run stopped (its budget had no block left); empty: it kept up
    int prefixReused = 0;
    int steps = 0;
    bool finished = false;
    QString note;  // e.g. which conversation found no room
};

struct FitMeasurement {
    kvscope::ServeResult reserved, paged;
    int prompts = 0;
};

class ConversationsWorker : public QObject {
    Q_OBJECT
  public:
    struct Callbacks {  // run on the GUI thread
        std::function<void(const ConversationsSnapshot&)> snapshot;
        std::function<void(const FitMeasurement&)> fit;
        std::function<void(const kvscope::SecondTurn&)> turn;
        std::function<void(const QString&)> failed;
    };
    ConversationsWorker(QObject* guiReceiver, Callbacks callbacks);

    // Called on the worker thread (QMetaObject::invokeMethod); each drops a run still going.
    void setModel(std::shared_ptr<const kvscope::Model> model);
    void runDemo(const ConversationsRequest& request, int stepDelayMs);
    void measureFit(const ConversationsRequest& request);
    void measureTurn(const ConversationsRequest& request);
    std::atomic<bool>& cancelFlag() { return m_cancel; }

  private:
    void post(std::function<void()> f);
    bool ready();
    QObject* m_gui;
    Callbacks m_callbacks;
    std::shared_ptr<kvscope::Engine> m_engine;
    std::atomic<bool> m_cancel{false};
};

}  // namespace kvscope::app
