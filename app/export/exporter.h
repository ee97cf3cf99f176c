// exporter.h — one export from start to finish, as the Export dialog and `kvscope export` run it.
//
// Checks the request (format, size, frame rate, output path) before anything is drawn, writes into a
// PendingOutput beside the target, and moves it into place only when everything succeeded: a failed or
// cancelled export leaves neither a target nor a temporary, and an existing target untouched. An
// existing target is replaced only when the request says so (the GUI asks first; the CLI needs --force).
// Runs on whatever thread calls it; the control's cancel flag may be set from any other.
#pragma once

#include <QString>
#include <vector>

#include "export/counters_export.h"
#include "export/export_control.h"
#include "export/export_format.h"
#include "export/frame_source.h"
#include "export/heatmap_svg.h"
#include "export/video_encoders.h"

namespace kvscope::app {

struct ExportRequest {
    ExportFormat format = ExportFormat::mp4;
    QString outPath;
    bool replaceExisting = false;
    VideoOptions video;  // mp4, gif
    int stillFrame = 0;  // png: the frame written
};

struct ExportResult {
    enum class Outcome { written, cancelled, failed };
    Outcome outcome = Outcome::failed;
    QString error;     // failed: what went wrong, for the person exporting
    QString path;      // written: the absolute path of the file or folder
    qint64 bytes = 0;  // written: its size (a folder: the sum of its files)
    bool ok() const { return outcome == Outcome::written; }
};

// mp4, gif, png-frames and png (one frame: request.stillFrame) from a FrameSource.
ExportResult exportFrames(FrameSource& source, const ExportRequest& request, ExportControl& control);
// svg: one step's heatmaps.
ExportResult exportSvg(const SvgPage& page, const ExportRequest& request);
// csv, json: the counters of the runs.
ExportResult exportCounters(const std::vector<CountersRun>& runs, const ExportRequest& request);

}  // namespace kvscope::app
