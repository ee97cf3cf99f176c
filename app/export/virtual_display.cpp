#include "export/virtual_display.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QByteArray>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "export/export_io.h"

namespace kvscope::app {
namespace {

bool isSet(const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
}

// The full path of `program` on PATH, or empty.
std::string findOnPath(const char* program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        const size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string dir = dirs.substr(start, end - start);
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return {};
}

Status noDisplay(const QString& why) {
    return exportFailure(
        QStringLiteral("no OpenGL available: %1. Export draws with OpenGL, which needs a display here: "
                       "install the xvfb package (tools/deps.sh) and `kvscope export` starts a private one, "
                       "or run it under tools/run-with-xvfb.sh")
            .arg(why));
}

}  // namespace

bool VirtualDisplay::displayConfigured() {
    return isSet("DISPLAY") || isSet("WAYLAND_DISPLAY") || isSet("QT_QPA_PLATFORM");
}

Result<std::unique_ptr<VirtualDisplay>> VirtualDisplay::start() {
    const std::string xvfb = findOnPath("Xvfb");
    if (xvfb.empty()) return noDisplay(QStringLiteral("there is no display (DISPLAY is unset) and no Xvfb"));
    int fds[2];
    if (::pipe(fds) != 0)
        return noDisplay(
            QStringLiteral("cannot make a pipe for Xvfb: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    const std::string displayFd = std::to_string(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return noDisplay(
            QStringLiteral("cannot start Xvfb: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    }
    if (pid == 0) {
        // The child: Xvfb with its chatter silenced, writing its display number on the pipe.
        const int devnull = ::open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            ::dup2(devnull, 0);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
        }
        ::setsid();  // not in the terminal's process group: Ctrl+C reaches kvscope, which stops it
        ::execl(xvfb.c_str(), "Xvfb", "-displayfd", displayFd.c_str(), "-screen", "0", "1920x1080x24",
                "-nolisten", "tcp", "-noreset", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fds[1]);
    std::unique_ptr<VirtualDisplay> display(new VirtualDisplay);
    display->m_pid = pid;  // from here on the destructor stops it
    std::string number;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (number.empty() || number.back() != '\n') {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::close(fds[0]);
            return noDisplay(QStringLiteral("Xvfb gave no display number within 30 s"));
        }
        pollfd p{fds[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, int(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        char buffer[32];
        const ssize_t n = ready > 0 ? ::read(fds[0], buffer, sizeof buffer) : 0;
        if (n <= 0 && ready > 0) {
            ::close(fds[0]);
            return noDisplay(QStringLiteral("Xvfb (%1) exited without opening a display")
                                 .arg(QString::fromStdString(xvfb)));
        }
        number.append(buffer, size_t(std::max<ssize_t>(n, 0)));
    }
    ::close(fds[0]);
    number.pop_back();
    display->m_name = QStringLiteral(":") + QString::fromStdString(number);
    ::setenv("DISPLAY", display->m_name.toLocal8Bit().constData(), 1);
    ::setenv("QT_QPA_PLATFORM", "xcb", 1);
    return display;
}

VirtualDisplay::~VirtualDisplay() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
}

}  // namespace kvscope::app
