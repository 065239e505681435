// The logger: levels, text or JSON lines (runc's --log-format; containerd's shim reads the
// JSON lines {"level","msg","time"} from --log), errors also to stderr. The library logs
// through here and never prints otherwise.
#pragma once

#include <string>
#include <string_view>

namespace cove::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

struct Options {
    std::string path;  // empty: stderr only
    Format format = Format::kText;
    bool debug = false;
};

// Opens the log file (append). Failure to open is reported on stderr and ignored, as runc.
void init(const Options& opts);
void write(Level level, std::string_view msg);
inline void debug(std::string_view m) {
    write(Level::kDebug, m);
}
inline void info(std::string_view m) {
    write(Level::kInfo, m);
}
inline void warn(std::string_view m) {
    write(Level::kWarn, m);
}
inline void error(std::string_view m) {
    write(Level::kError, m);
}
bool debug_enabled();
// The log file's fd (or -1), so a child can write to it before exec.
int fd();

}  // namespace cove::log
