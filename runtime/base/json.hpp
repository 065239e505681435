// nlohmann::json helpers: required()/optional() field readers for hand-written from_json, and
// parse helpers that turn nlohmann's exceptions into Errors naming the JSON path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

namespace cove::json {

using Json = nlohmann::json;

// Reads j[key] into out; throws nlohmann::json::out_of_range (with JSON_DIAGNOSTICS' path)
// when the key is missing.
template <typename T>
void required(const Json& j, const char* key, T& out) {
    j.at(key).get_to(out);
}

// Reads j[key] into out when present and not null.
template <typename T>
void optional(const Json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) {
        it->get_to(out);
    }
}

template <typename T>
void optional(const Json& j, const char* key, std::optional<T>& out) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) {
        out = it->template get<T>();
    }
}

// Parses text; an error reads "line 3, column 7: syntax error ...".
Result<Json> parse(std::string_view text);
Result<Json> parse_file(const std::string& path);

// nlohmann's exception text without the "[json.exception.type_error.302] " prefix, with
// the JSON path (from JSON_DIAGNOSTICS) first: "/process/args/1: type must be string".
std::string describe(const std::exception& e);

}  // namespace cove::json
