// video_loader.cpp — the program's side of the video encoders: encodeMp4 and encodeGif open the module
// (video_module.h) on first use, once per process, and forward to it; without it they say what is missing.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "export/export_io.h"
#include "export/video_module.h"
#include "kvscope/module_loader.h"

namespace kvscope::app {
namespace {

struct LoadedVideo {
    const VideoModule* module = nullptr;
    QString error;  // why module is null
};

LoadedVideo loadVideo() {
    const OpenedModule opened =
        open_module({"KVSCOPE_VIDEO_MODULE", KVSCOPE_VIDEO_MODULE_FROM_BIN, KVSCOPE_VIDEO_MODULE_BUILD_PATH,
                     KVSCOPE_VIDEO_MODULE_INSTALL_PATH});
    const QString path = QString::fromStdString(opened.path);
    if (!opened.handle && !opened.error.empty())
        return {nullptr, QStringLiteral("the video encoders %1 could not be loaded: %2")
                             .arg(path, QString::fromStdString(opened.error))};
    if (!opened.handle)
        return {nullptr,
                QStringLiteral("MP4 and GIF need KVScope's video encoders, libkvscope_video.so, which "
                               "are not installed (looked in %1)")
                    .arg(QString::fromStdString(looked_text(opened)))};
    auto entry = reinterpret_cast<const VideoModule* (*)()>(dlsym(opened.handle, KVSCOPE_VIDEO_MODULE_ENTRY));
    if (!entry)
        return {nullptr,
                QStringLiteral("%1 has no " KVSCOPE_VIDEO_MODULE_ENTRY " (not KVScope's video encoders)")
                    .arg(path)};
    const VideoModule* module = entry();
    if (!module || module->abi_version != VideoModule::kAbiVersion ||
        module->sizeof_status != sizeof(Status) || module->sizeof_options != sizeof(VideoOptions))
        return {nullptr, QStringLiteral("the video encoders %1 were built from another version of KVScope "
                                        "(interface %2, this program %3): rebuild or reinstall both")
                             .arg(path)
                             .arg(module ? module->abi_version : 0)
                             .arg(VideoModule::kAbiVersion)};
    return {module, {}};
}

const LoadedVideo& video() {
    static std::once_flag once;
    static LoadedVideo loaded;
    std::call_once(once, [] { loaded = loadVideo(); });
    return loaded;
}

}  // namespace

Status encodeMp4(FrameSource& source, const QString& path, const VideoOptions& options,
                 ExportControl& control) {
    const LoadedVideo& v = video();
    if (!v.module) return exportFailure(v.error);
    return v.module->encode_mp4(source, path, options, control);
}

Status encodeGif(FrameSource& source, const QString& path, const VideoOptions& options,
                 ExportControl& control) {
    const LoadedVideo& v = video();
    if (!v.module) return exportFailure(v.error);
    return v.module->encode_gif(source, path, options, control);
}

}  // namespace kvscope::app
