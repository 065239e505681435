#include "runtime/cli/signals.hpp"

#include <signal.h>

#include <cctype>
#include <cstring>
#include <string>

#include "runtime/base/strings.hpp"

namespace cove::cli {

int signal_from_name(std::string_view name) {
    if (auto n = str::parse_int(name)) {
        // 0 is valid: it checks that the process exists.
        return *n >= 0 && *n < NSIG ? static_cast<int>(*n) : -1;
    }
    std::string up;
    for (char c : name) {
        up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (str::starts_with(up, "SIG")) {
        up = up.substr(3);
    }
    if (str::starts_with(up, "RTMIN+")) {
        auto n = str::parse_int(up.substr(6));
        return n && SIGRTMIN + *n <= SIGRTMAX ? SIGRTMIN + static_cast<int>(*n) : -1;
    }
    if (str::starts_with(up, "RTMAX-")) {
        auto n = str::parse_int(up.substr(6));
        return n && SIGRTMAX - *n >= SIGRTMIN ? SIGRTMAX - static_cast<int>(*n) : -1;
    }
    for (int i = 1; i < NSIG; ++i) {
        const char* abbrev = ::sigabbrev_np(i);
        if (abbrev != nullptr && up == abbrev) {
            return i;
        }
    }
    if (up == "RTMIN") {
        return SIGRTMIN;
    }
    if (up == "RTMAX") {
        return SIGRTMAX;
    }
    return -1;
}

}  // namespace cove::cli
