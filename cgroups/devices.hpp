// Device access rules, one model for both cgroup versions: runc's emulator of the v1 devices
// controller reduces linux.resources.devices to a default (allow or deny) plus exceptions,
// refusing rules that v1 would silently ignore (a hole punched into a wildcard rule). v1
// gets the writes that move devices.list to that state; v2 gets an eBPF program
// (BPF_PROG_TYPE_CGROUP_DEVICE, runc's and crun's design) built from the same state, so a
// config means the same on both. Also the rules runc adds to every container.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <map>
#include <string_view>
#include <tuple>
#include <vector>

#include "cgroups/resources.hpp"
#include "runtime/base/error.hpp"

namespace cove::spec {
struct Device;
}

namespace cove::cgroups {

// Access bits, as in the kernel's bpf_cgroup_dev_ctx (BPF_DEVCG_ACC_*).
enum : unsigned { kAccMknod = 1, kAccRead = 2, kAccWrite = 4, kAccAll = 7 };

unsigned access_bits(std::string_view access);
// In "rwm" order.
std::string access_string(unsigned bits);

class DeviceEmulator {
public:
    // A fresh cgroup below an unrestricted parent: "a *:* rwm".
    DeviceEmulator() = default;
    // Parses a v1 devices.list.
    static Result<DeviceEmulator> from_list(std::string_view list);
    // rules applied in order to a fresh (allow-all) emulator.
    static Result<DeviceEmulator> from_rules(const std::vector<DeviceRule>& rules);

    // One devices.allow (rule.allow) or devices.deny write, as v1 does it. A type 'a' rule
    // resets to allow-all or deny-all.
    Status apply(const DeviceRule& rule);
    bool default_allow() const { return default_allow_; }
    // The canonical form: the wildcard rule, then the exceptions (sorted), each with the
    // opposite action of the default.
    std::vector<DeviceRule> rules() const;
    // The rules to write (in order) to turn a v1 cgroup in this state into target (runc's
    // Emulator.Transition). devices.list cannot show the deny exceptions of an allow-all
    // cgroup, so leaving one starts with a disruptive wildcard rule.
    std::vector<DeviceRule> transition(const DeviceEmulator& target) const;

    bool operator==(const DeviceEmulator&) const = default;

private:
    using Key = std::tuple<char, int64_t, int64_t>;  // type, major, minor (-1: any)

    void add(const Key& k, unsigned bits);
    Status remove(const Key& k, unsigned bits);

    bool default_allow_ = true;
    std::map<Key, unsigned> exceptions_;
};

// The eBPF program enforcing an emulated rule set: r0 = 1 allows the access. Exceptions are
// matched by type, access, major and minor; anything else gets the default.
std::vector<bpf_insn> device_filter_program(const DeviceEmulator& e);

// The rules runc appends to every container's device rules (specconv.AllowedDevices in
// runc 1.1): mknod of any char or block device, /dev/null, zero, full, random, urandom, tty,
// ptmx, the pts range and tun.
const std::vector<DeviceRule>& default_device_rules();

// linux.resources as create applies it: the spec's device rules, then runc's default rules,
// then an rwm rule for each linux.devices node (fifos need none). null resources are fine.
nlohmann::json resources_for_create(const nlohmann::json& resources,
                                    const std::vector<spec::Device>& devices);

}  // namespace cove::cgroups
