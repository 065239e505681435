// sysctl values under /proc/sys of the current network namespace ("net/ipv4/ip_forward";
// slashes, so interface names with dots stay unambiguous).
#pragma once

#include <string>

#include "runtime/base/error.hpp"

namespace cove::nl {

Result<std::string> sysctl_get(const std::string& key);
// Writes value unless the current value already equals it.
Status sysctl_set(const std::string& key, const std::string& value);

}  // namespace cove::nl
