// Running another CNI plugin, as a plugin delegating to its IPAM plugin does (libcni's
// invoke / the reference plugins' ipam.ExecAdd...): find the executable named by `type` in
// CNI_PATH, run it with the caller's environment but CNI_COMMAND set to the verb, feed it the
// same stdin config, and turn its output into a CniResult or an Error carrying its CNI code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cni/skel/skel.hpp"
#include "cni/skel/types.hpp"
#include "runtime/base/error.hpp"

namespace cove::cni {

// The first executable regular file dirs[i]/name. name must not contain '/'.
Result<std::string> find_in_path(std::string_view name, const std::vector<std::string>& dirs);

struct ExecOutput {
    int exit_status = 0;  // the child's exit status (128+signal when killed)
    std::string out;
    std::string err;
};

// Runs binary with env (complete "K=V" list) and stdin; collects stdout and stderr.
Result<ExecOutput> exec_plugin(const std::string& binary,
                               const std::vector<std::string>& env,
                               std::string_view stdin_data);

// The environment for a delegated call: this process's environ with CNI_COMMAND replaced by
// verb and CNI_CONTAINERID/NETNS/IFNAME/ARGS/PATH set from req.
std::vector<std::string> delegate_env(const Request& req, Verb verb);

// Runs plugin `type` (found in req.path_dirs) for verb with stdin_data (default: the request's
// own config). ADD returns the decoded result; other verbs an empty result. A failing plugin's
// error object becomes an Error with its code (kErrInternal when it printed none).
Result<CniResult> delegate(std::string_view type,
                           Verb verb,
                           const Request& req,
                           std::string_view stdin_data = {});

// The ipam.type plugin of req's config; kErrInvalidNetworkConfig when there is no ipam.type.
Result<CniResult> ipam_exec_add(const Request& req);
Status ipam_exec_del(const Request& req);
Status ipam_exec_check(const Request& req);
Status ipam_exec_gc(const Request& req);
Status ipam_exec_status(const Request& req);

}  // namespace cove::cni
