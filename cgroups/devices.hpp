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

// A rule as cgroup v1 devices.allow/devices.deny take it: "c 1:3 rwm", "b *:* m", "a *:* rwm".
std::string v1_device_line(const DeviceRule& rule);

}  // namespace cove::cgroups
