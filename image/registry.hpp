// The OCI distribution client pieces that can be tested without a network: the
// WWW-Authenticate challenge parser and the registry URL of a reference. The reader itself
// (registry.cpp) speaks HTTP through libcurl: anonymous, basic (--creds) and bearer-token
// auth, http on loopback hosts (https there too with --ca-file) and https elsewhere.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "image/reference.hpp"

namespace cove::image {

struct Challenge {
    std::string scheme;                         // "basic", "bearer" (lowercased)
    std::map<std::string, std::string> params;  // realm, service, scope (keys lowercased)
};

// Parses `Bearer realm="https://a/token",service="reg",scope="repository:x:pull"`.
Challenge parse_challenge(std::string_view header);

// "http://127.0.0.1:5000" for loopback hosts unless tls (a --ca-file was given),
// "https://registry-1.docker.io" for docker.io, "https://HOST[:PORT]" otherwise.
std::string registry_base_url(const Reference& r, bool tls = false);

}  // namespace cove::image
