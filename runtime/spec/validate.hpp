// Semantic checks of a parsed config.json before create, after runc's
// libcontainer/configs/validate and the MUSTs of the runtime-spec (config.md, config-linux.md).
// Types were checked by parse_spec(); here: absolute paths, known names, namespace
// requirements, limits. The first problem found is returned on one line, naming the field
// with its index: `linux.namespaces[2].type: unknown namespace "foo"`.
#pragma once

#include <string>

#include "runtime/base/error.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::spec {

// Checks spec for `create`/`run`: process and root are required, and the rootfs must exist
// (root.path is resolved against bundle_dir). Reads the filesystem only for the rootfs and,
// when net.* sysctls are set with a joined network namespace, to compare that namespace with
// ours.
Status validate(const Spec& spec, const std::string& bundle_dir);

// The absolute, lexically cleaned rootfs path: root.path, or bundle_dir/root.path when it is
// relative (a relative bundle_dir is taken from the current directory). "" without root.
std::string resolve_rootfs(const Spec& spec, const std::string& bundle_dir);

}  // namespace cove::spec
