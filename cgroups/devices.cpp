#include "cgroups/devices.hpp"

namespace cove::cgroups {

DevicePolicy device_policy(const std::vector<DeviceRule>& rules) {
    DevicePolicy p;
    size_t start = 0;
    for (size_t i = 0; i < rules.size(); ++i) {
        // The kernel ignores major, minor and access on an 'a' rule: it resets the cgroup.
        if (rules[i].type == 'a') {
            p.default_allow = rules[i].allow;
            start = i + 1;
        }
    }
    p.rules.assign(rules.begin() + static_cast<std::ptrdiff_t>(start), rules.end());
    return p;
}

std::string v1_device_line(const DeviceRule& rule) {
    auto num = [](const std::optional<int64_t>& n) {
        return n ? std::to_string(*n) : std::string("*");
    };
    std::string out(1, rule.type);
    out += ' ';
    out += num(rule.major);
    out += ':';
    out += num(rule.minor);
    out += ' ';
    out += rule.access.empty() ? "rwm" : rule.access;
    return out;
}

}  // namespace cove::cgroups
