// Device rules as both backends enforce them. The list reads like cgroup v1's devices.allow
// and devices.deny writes: a type 'a' rule resets everything (deny: nothing is allowed; allow:
// everything is), and later rules punch exceptions, the last matching rule winning. A list
// without a type 'a' rule starts from deny-all, as runc's device emulator does.
#pragma once

#include <string>
#include <vector>

#include "cgroups/resources.hpp"

namespace cove::cgroups {

struct DevicePolicy {
    bool default_allow = false;
    std::vector<DeviceRule> rules;  // what follows the last type 'a' rule, in order
};

DevicePolicy device_policy(const std::vector<DeviceRule>& rules);

// The cgroup v1 kernel's own bookkeeping of the rules (runc's device emulator): a default and
// a list of exceptions to it, one per (type, major, minor) with the accesses merged: a rule
// against the default adds its accesses to its exception, a rule agreeing with the default
// takes them away. Every returned rule has allow == !default_allow. The access check is the
// kernel's: with deny-by-default a request must lie within one exception's accesses; with
// allow-by-default a request touching any access of an exception is denied.
DevicePolicy device_exceptions(const std::vector<DeviceRule>& rules);

// A rule as cgroup v1 devices.allow/devices.deny take it: "c 1:3 rwm", "b *:* m", "a *:* rwm".
std::string v1_device_line(const DeviceRule& rule);

}  // namespace cove::cgroups
