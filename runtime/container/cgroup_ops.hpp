// The container-level cgroup operations built on cgroups::Manager: linux.resources at create,
// the freezer behind pause/resume and the "paused" status, signalling every process of a
// container (kill --all, delete), and the merge of `update` into the saved config. The facade
// functions (pause, resume, update, events) are declared in cove.hpp.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "cgroups/manager.hpp"
#include "runtime/base/error.hpp"
#include "runtime/container/state.hpp"
#include "runtime/spec/spec.hpp"

namespace cove {

// The spec's linux.resources, parsed and completed the way runc does at create (its default
// device rules after the spec's). Called before any cgroup or state dir exists, so a bad
// value leaves nothing behind.
Result<cgroups::Resources> plan_resources(const spec::Spec& s);

// The container's cgroup manager, reopened from state.json; an error when it has none.
Result<std::unique_ptr<cgroups::Manager>> container_cgroup(const ContainerState& st);

// True when the container's cgroup is frozen (pause). False when it cannot be told: no
// cgroup, no freezer, or the cgroup is gone.
bool cgroup_frozen(const ContainerState& st);

// Sends sig to every process in the container's cgroup: one cgroup.kill write when the
// manager can, otherwise freeze, signal each pid, thaw (runc's signalAllProcesses: nothing
// forks past the signal). A container that was paused stays paused unless sig is SIGKILL.
Status signal_cgroup(const ContainerState& st, int sig);

// After SIGKILL to the init of a paused container: a frozen v1 task handles the signal only
// once thawed, so runc thaws the cgroup. Errors are ignored (best effort).
void thaw_after_kill(const ContainerState& st);

// `update`: the fields runc's update takes from its flags or -r JSON (memory limit,
// reservation, swap, checkBeforeUpdate; cpu shares, quota, burst, period, realtime*, cpus,
// mems, idle; blockIO weight; pids limit; unified), in linux.resources' shape. Other keys are
// ignored, as runc ignores them. runc's defaults apply: a memory limit of -1 without a swap
// value means unlimited swap too; a zero pids limit and empty cpus/mems change nothing.
nlohmann::json update_delta(const nlohmann::json& requested);

// The saved linux.resources with delta's fields written over it.
nlohmann::json merge_resources(nlohmann::json saved, const nlohmann::json& delta);

}  // namespace cove
