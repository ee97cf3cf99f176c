// conversations_panel.h — the Conversations view: many conversations sharing one KV memory budget.
//
// The memory as two maps of blocks (views/block_map_renderer.h): under paging and, beside it on the same
// budget, under up-front reservation. Beside the maps: bytes allocated, holding tokens and
// wasted under each; prefix tokens reused and the FLOPs and time the reservation run spent that the paged
// run did not; how many conversations each layout holds at once (measured on request); and a chat's second
// turn timed with and without the first turn's cache. The teacher sets the budget, the per-conversation
// limit, the block size, the system prompt and the conversations. Numbers come from ConversationsWorker.
#pragma once

#include <QThread>
#include <QWidget>
#include <optional>

#include "conversations/conversations_worker.h"
#include "run_types.h"
#include "trace_store.h"

class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace kvscope::app {

class DisplaySettings;
class GlView;
struct BlockMaps;

class ConversationsPanel : public QWidget {
    Q_OBJECT
  public:
    ConversationsPanel(DisplaySettings& display, QWidget* parent = nullptr);
    ~ConversationsPanel() override;

    void setModel(const ModelInfo& info);
    void runDemo();      // the conversations, stepped together in both layouts
    void measureFit();   // how many conversations each layout holds
    void measureTurn();  // the chat's second turn, with and without the cache
    void setStepDelayMs(int ms) { m_stepDelayMs = ms; }
    void setBudgetMiB(double mib);

    const std::optional<ConversationsSnapshot>& lastSnapshot() const;  // what the maps draw
    // What the maps draw (the latest snapshot and the conversations' names), for an export.
    std::shared_ptr<const BlockMaps> blockMaps() const { return m_blockMaps; }
    const std::optional<FitMeasurement>& lastFit() const { return m_fit; }
    const std::optional<kvscope::SecondTurn>& lastTurn() const { return m_turn; }
    QString statsText() const;

  signals:
    void snapshotShown();
    void fitShown();
    void turnShown();
    void failed(const QString& message);

  private:
    bool buildRequest(ConversationsRequest* request);
    void holdWhileBusy(QPushButton* button);
    void showSnapshot(const ConversationsSnapshot& s);
    void updateStats();
    QString conversationName(int i) const;

    DisplaySettings& m_display;
    ModelInfo m_model;
    QThread m_thread;
    ConversationsWorker* m_worker = nullptr;
    int m_stepDelayMs = 40;

    QDoubleSpinBox* m_budget;
    QSpinBox* m_limit;
    QSpinBox* m_blockSize;
    QSpinBox* m_replyTokens;
    QLineEdit* m_system;
    QLineEdit* m_prompts;
    QLineEdit* m_followUp;
    QPushButton* m_runButton;
    QPushButton* m_fitButton;
    QPushButton* m_turnButton;
    TraceStore m_mapStore;                   // empty: GlView needs a store; the maps draw m_blockMaps
    std::shared_ptr<BlockMaps> m_blockMaps;  // the latest snapshot, as the maps draw it
    GlView* m_maps;
    QLabel* m_stats;

    std::optional<FitMeasurement> m_fit;
    std::optional<kvscope::SecondTurn> m_turn;
    QString m_error;
};

}  // namespace kvscope::app
