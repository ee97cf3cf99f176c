// video_module.h — the interface between KVScope's programs and their video encoders, a module
// (libkvscope_video.so: mp4_encoder.cpp, gif_encoder.cpp and FFmpeg) opened with dlopen the first time an
// MP4 or a GIF is written (video_loader.cpp; where it is looked for: kvscope/module_loader.h).
//
// The module and the program come from one build: the interface is C++ (Status, QString, FrameSource are
// passed as they are), and the version and sizes below catch a module left over from another build.
#pragma once

#include <cstddef>

#include "export/video_encoders.h"

namespace kvscope::app {

struct VideoModule {
    static constexpr int kAbiVersion = 1;
    int abi_version;
    size_t sizeof_status;
    size_t sizeof_options;
    Status (*encode_mp4)(FrameSource&, const QString&, const VideoOptions&, ExportControl&);
    Status (*encode_gif)(FrameSource&, const QString&, const VideoOptions&, ExportControl&);
};

}  // namespace kvscope::app

// extern "C" const kvscope::app::VideoModule* kvscope_video_module();
#define KVSCOPE_VIDEO_MODULE_ENTRY "kvscope_video_module"
