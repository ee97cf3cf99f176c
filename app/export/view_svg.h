// view_svg.h — one step of a run as a vector page: the heatmaps the views draw, as SVG cells.
//
// What the page holds, by view: attention — the selected head (or every head) of the layer, queries down,
// keys across, the tokens as labels; kv-cache — K and V of every KV head of the layer, positions down,
// dimensions across; pane — both for one run; side-by-side — both for both runs. Colours are the views':
// the theme's colour maps, each value placed on its map exactly as the shaders place it (heatmap_draw.h),
// K and V over the same ±range the view uses at that step (KvValueStats); cells above the causal diagonal
// in the mask colour. The step's highlight and the cell borders of the views are not drawn: the SVG is the
// data. The page layout and the writing are heatmap_svg.h's.
#pragma once

#include "export/heatmap_svg.h"
#include "export/view_frames.h"

namespace kvscope::app {

// `settings` must come from resolveExportSettings; the page shows settings.stillStep.
Result<SvgPage> viewSvgPage(const ExportHistory& history, const ExportSettings& settings);

}  // namespace kvscope::app
