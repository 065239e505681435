// Small string helpers: split, join, checked integer parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cove::str {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& v, std::string_view sep);
std::optional<int64_t> parse_int(std::string_view s);
std::optional<uint64_t> parse_uint(std::string_view s);
std::string_view trim(std::string_view s);
inline bool starts_with(std::string_view s, std::string_view p) {
    return s.rfind(p, 0) == 0;
}

}  // namespace cove::str
