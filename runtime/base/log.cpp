#include "runtime/base/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>

namespace cove::log {
namespace {

struct State {
    int fd = -1;
    Format format = Format::kText;
    bool debug = false;
};
State g_state;

const char* level_name(Level l) {
    switch (l) {
        case Level::kDebug:
            return "debug";
        case Level::kInfo:
            return "info";
        case Level::kWarn:
            return "warning";
        case Level::kError:
            return "error";
    }
    return "info";
}

std::string now_rfc3339() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm {};
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    ::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

void write_line(int fd, const std::string& line) {
    size_t off = 0;
    while (off < line.size()) {
        ssize_t w = ::write(fd, line.data() + off, line.size() - off);
        if (w <= 0) {
            return;
        }
        off += static_cast<size_t>(w);
    }
}

}  // namespace

void init(const Options& opts) {
    g_state.format = opts.format;
    g_state.debug = opts.debug;
    if (!opts.path.empty()) {
        int fd = ::open(opts.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            write_line(2, "cove: open log file " + opts.path + ": failed\n");
        } else {
            g_state.fd = fd;
        }
    }
}

bool debug_enabled() {
    return g_state.debug;
}
int fd() {
    return g_state.fd;
}

void write(Level level, std::string_view msg) {
    if (level == Level::kDebug && !g_state.debug) {
        return;
    }
    if (g_state.fd >= 0) {
        std::string line;
        if (g_state.format == Format::kJson) {
            nlohmann::json j = {
                {"level", level_name(level)}, {"msg", msg}, {"time", now_rfc3339()}};
            line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        } else {
            line =
                "time=\"" + now_rfc3339() + "\" level=" + level_name(level) + " msg=" +
                nlohmann::json(msg).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n";
        }
        write_line(g_state.fd, line);
    }
    // Errors always reach stderr; other levels only when there is no log file.
    if (level == Level::kError || g_state.fd < 0) {
        if (level == Level::kError) {
            write_line(2, "cove: " + std::string(msg) + "\n");
        } else {
            write_line(2, std::string(level_name(level)) + ": " + std::string(msg) + "\n");
        }
    }
}

}  // namespace cove::log
