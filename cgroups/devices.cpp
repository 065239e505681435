#include "cgroups/devices.hpp"

#include <algorithm>

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

DevicePolicy device_exceptions(const std::vector<DeviceRule>& rules) {
    DevicePolicy p = device_policy(rules);
    std::vector<DeviceRule> ex;
    for (const auto& r : p.rules) {
        auto it = std::find_if(ex.begin(), ex.end(), [&](const DeviceRule& e) {
            return e.type == r.type && e.major == r.major && e.minor == r.minor;
        });
        if (r.allow != p.default_allow) {
            if (it == ex.end()) {
                ex.push_back({r.allow, r.type, r.major, r.minor, ""});
                it = ex.end() - 1;
            }
            for (char c : std::string("rwm")) {
                if (r.access.find(c) != std::string::npos &&
                    it->access.find(c) == std::string::npos) {
                    it->access += c;
                }
            }
        } else if (it != ex.end()) {
            std::string left;
            for (char c : it->access) {
                if (r.access.find(c) == std::string::npos) {
                    left += c;
                }
            }
            if (left.empty()) {
                ex.erase(it);
            } else {
                it->access = left;
            }
        }
    }
    // "rwm" order, as devices.list shows it.
    for (auto& e : ex) {
        std::string sorted;
        for (char c : std::string("rwm")) {
            if (e.access.find(c) != std::string::npos) {
                sorted += c;
            }
        }
        e.access = sorted;
    }
    p.rules = std::move(ex);
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
