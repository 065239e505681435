// config.json <-> Spec. Parsing checks types only (semantics are validate.hpp); unknown keys
// are ignored, as the runtime-spec requires, and `null` reads as absent. Errors name the JSON
// path: "/process/args/1: type must be string, but is number". This is the only file of the
// spec module that catches nlohmann exceptions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::spec {

// Typed view of a parsed config.json. Integers are range-checked (a uid of -1 is an error, as
// in runc's Go decoder); fields the runtime-spec marks REQUIRED inside an object (root.path,
// mounts[].destination, namespaces[].type, ...) must be present. process.cwd is the exception:
// a missing cwd reads as "" and validate() reports it.
Result<Spec> parse_spec(const nlohmann::json& j);

// Parses text first: "line 3, column 7: syntax error while parsing ...".
Result<Spec> parse_spec_text(std::string_view text);

// Reads <bundle_dir>/config.json. Errors read "open /b/config.json: ..." (with errno) or
// "config.json: /process/args/1: type must be string, but is number".
Result<Spec> load_spec(const std::string& bundle_dir);

// A lone process object, as `exec --process process.json` takes it.
Result<Process> parse_process(const nlohmann::json& j);

// Encodes like runc's Go structs: empty and absent optional fields are omitted (omitempty),
// required ones (ociVersion, process.user, process.cwd, root.path, ...) are always written.
// Keys come out sorted (nlohmann::json is a std::map).
nlohmann::json to_json(const Spec& spec);
nlohmann::json to_json(const Process& process);

}  // namespace cove::spec
