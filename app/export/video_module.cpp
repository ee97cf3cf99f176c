// video_module.cpp — the entry point of libkvscope_video.so (video_module.h): the module's encoders.
#include "export/video_module.h"

extern "C" __attribute__((visibility("default"))) const kvscope::app::VideoModule* kvscope_video_module() {
    using namespace kvscope::app;
    static const VideoModule module{VideoModule::kAbiVersion, sizeof(kvscope::Status), sizeof(VideoOptions),
                                    &encodeMp4, &encodeGif};
    return &module;
}
