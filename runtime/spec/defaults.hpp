// The config.json template `cove spec` writes: the same document as `runc spec` (runc 1.1),
// and with rootless, as `runc spec --rootless` (runc's specconv.Example and ToRootless).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace cove::spec {

// The ociVersion runc 1.1 writes into new specs.
inline constexpr const char* kDefaultOciVersion = "1.0.2-dev";

// The template as JSON. With rootless: no network namespace, a new user namespace mapping
// root to the caller's effective uid/gid, /sys rbound from the host, no uid=/gid= mount
// options and no linux.resources.
nlohmann::json default_spec(bool rootless);

// The same document with runc's key order, so that dump(1, '\t') is byte for byte what
// `runc spec` writes. host_uid/host_gid are the ids the rootless mappings point at.
nlohmann::ordered_json default_spec_ordered(bool rootless);
nlohmann::ordered_json default_spec_ordered(bool rootless, uint32_t host_uid, uint32_t host_gid);

}  // namespace cove::spec
