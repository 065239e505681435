// OCI hooks (runtime-spec config.md "POSIX-platform Hooks"): the hook gets the container
// state on stdin, runs with its own args and env, and fails the step on a non-zero exit or
// when its timeout (seconds) passes. Its output is captured and shown only on failure.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::hooks {

// Runs each hook in order; stops at the first failure ("<kind> hook #<i> (<path>): ...").
Status run_all(const char* kind, const std::vector<spec::Hook>& list, const std::string& state);

}  // namespace cove::hooks
