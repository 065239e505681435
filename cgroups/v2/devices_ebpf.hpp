// cgroup v2 device control: the device rules compiled to a BPF_PROG_TYPE_CGROUP_DEVICE
// program (after runc's and crun's device filter), and loading it and swapping it in on a
// cgroup with raw bpf(2) calls (no libbpf).
//
// The program reads the context (struct bpf_cgroup_dev_ctx) into R2 = device type, R3 =
// access, R4 = major, R5 = minor; then one block per rule, the list's last rule first so the
// last matching rule wins; each block falls through to the next on a mismatch and returns
// the rule's verdict (R0 = 1 allow, 0 deny) on a match; the last block returns the default.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "cgroups/resources.hpp"
#include "runtime/base/error.hpp"

namespace cove::cgroups {

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules);

// Loads prog and attaches it to the cgroup (BPF_F_ALLOW_MULTI), then detaches the programs
// that were attached there before (cove's previous filter on update).
Status replace_device_filter(int cgroup_fd, const std::vector<bpf_insn>& prog);

}  // namespace cove::cgroups
