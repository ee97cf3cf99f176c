// block_map_renderer.h — the Conversations view's memory, as two maps of blocks side by side: the budget
// under paging (left) and under up-front reservation (right), from one snapshot of ConversationsWorker.
//
// One cell is one block of tokens (the paged block size; the reserved map is drawn in cells of the same
// size). A cell is coloured by the conversation whose tokens it holds; a block shared by several
// conversations (the system prompt) is striped with each of their colours and outlined; the part of a
// cell allocated but holding no token is hatched (internal fragmentation under paging, the unwritten rest
// of a reservation); a free cell is an empty outline. A legend names the conversations. Hovering a cell
// says what it holds. Drawn in the Conversations dock and by exports (the lesson on many conversations).
#pragma once

#include <QStringList>
#include <memory>
#include <optional>

#include "conversations/conversations_worker.h"
#include "views/view_renderer.h"

namespace kvscope::app {

// What the maps draw: the latest snapshot and the conversations' names (in the snapshot's order).
struct BlockMaps {
    std::optional<ConversationsSnapshot> snapshot;
    QStringList names;
    int limit = 0;  // the tokens a reservation sets aside (named before any conversation has one)
};

QColor conversationColour(int i);  // one colour per conversation (8, then again), on every theme

class BlockMapRenderer : public ViewRenderer {
  public:
    // `maps`: what to draw; its owner may replace it between frames (on the thread that renders).
    explicit BlockMapRenderer(std::shared_ptr<const BlockMaps> maps) : m_maps(std::move(maps)) {}
    const char* name() const override { return "conversations"; }
    void render(FrameContext& frame) override;
    bool affectedBy(const StoreChange&, Side) const override { return false; }  // the panel's, not the runs'

  private:
    std::shared_ptr<const BlockMaps> m_maps;
};

}  // namespace kvscope::app
