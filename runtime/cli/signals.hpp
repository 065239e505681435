// Signal names for `kill`: "SIGKILL", "KILL", "kill", "9", and realtime "RTMIN+3".
#pragma once

#include <string_view>

namespace cove::cli {

// -1 when unknown; "0" is 0 (an existence check, as kill(2)).
int signal_from_name(std::string_view name);

}  // namespace cove::cli
