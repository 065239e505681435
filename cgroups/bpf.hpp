// Raw bpf(2) for the cgroup v2 device filter, without libbpf: load a
// BPF_PROG_TYPE_CGROUP_DEVICE program, attach it to a cgroup with BPF_F_ALLOW_MULTI, then
// detach the programs that were there before (runc's order: the cgroup is never without a
// filter; while both are attached, both must allow).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::cgroups::bpf {

// On failure the error carries the verifier's log.
Result<UniqueFd> load_device_program(const std::vector<bpf_insn>& prog);
// The ids of the device programs attached to the cgroup.
Result<std::vector<uint32_t>> attached_device_programs(int cgroup_fd);
// Loads prog, attaches it to the cgroup and detaches the ones attached before.
Status replace_device_filter(int cgroup_fd, const std::vector<bpf_insn>& prog);

}  // namespace cove::cgroups::bpf
