// The steps that turn a container's process (init or exec) into the one config.json
// describes: rlimits, oom_score_adj, identity (groups, gid, uid, umask), cwd, executable
// lookup and execve. Shared by init.cpp and exec.cpp; runs in the child only.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::process {

Status set_rlimits(const spec::Process& p);
Status set_oom_score_adj(const spec::Process& p);
// setgroups/setresgid/setresuid with PR_SET_KEEPCAPS kept, so caps can be applied after.
// setgroups is skipped when it is denied (a user namespace with setgroups "deny").
Status set_identity(const spec::Process& p);
// chdir to process.cwd and check that it is inside the container's root: a cwd such as
// /proc/self/fd/N naming a runtime fd would otherwise leave the process in a host directory
// (CVE-2024-21626). With `early`, EACCES is tolerated (retried after the user switch).
Status enter_cwd(const spec::Process& p, bool early);
// HOME from the container's /etc/passwd when the env has none (runc does the same).
std::vector<std::string> env_with_home(const spec::Process& p);
// Resolves args[0] against PATH of env (or the default PATH), like execvp: the error says
// `exec: "foo": executable file not found in $PATH` with exit code 127, or 126 when found
// but not executable.
Result<std::string> find_executable(const std::string& name, const std::vector<std::string>& env);
// execve; returns only on failure (with runc's 126/127 exit codes).
Error exec(const std::string& path, const spec::Process& p, const std::vector<std::string>& env);

}  // namespace cove::process
