// linux.resources as typed values (runtime-spec config-linux.md "Control groups"), parsed once
// and handed to a Manager's apply()/update(). Absent fields stay std::nullopt/empty and are
// never written, so `update` changes only what it names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

namespace cove::cgroups {

struct DeviceRule {
    bool allow = false;
    char type = 'a';               // 'a', 'b', 'c' (also 'u', 'p' in device entries)
    std::optional<int64_t> major;  // nullopt: any ('*')
    std::optional<int64_t> minor;
    std::string access = "rwm";  // subset of "rwm"
};

struct WeightDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
    int64_t major = 0, minor = 0;
    uint64_t rate = 0;
};

struct Resources {
    std::vector<DeviceRule> devices;
    struct Memory {
        std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
        std::optional<uint64_t> swappiness;
        std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
    } memory;
    struct Cpu {
        std::optional<uint64_t> shares, period, realtime_period, burst;
        std::optional<int64_t> quota, realtime_runtime, idle;
        std::string cpus, mems;
    } cpu;
    struct Pids {
        std::optional<int64_t> limit;
    } pids;
    struct BlockIo {
        std::optional<uint16_t> weight, leaf_weight;
        std::vector<WeightDevice> weight_device;
        std::vector<ThrottleDevice> throttle_read_bps, throttle_write_bps, throttle_read_iops,
            throttle_write_iops;
    } block_io;
    struct HugepageLimit {
        std::string page_size;  // "2MB", "1GB"
        uint64_t limit = 0;
    };
    std::vector<HugepageLimit> hugepage_limits;
    struct Network {
        std::optional<uint32_t> class_id;
        std::vector<std::pair<std::string, uint32_t>> priorities;  // ifname -> priority
    } network;
    struct Rdma {
        std::optional<uint32_t> hca_handles, hca_objects;
    };
    std::map<std::string, Rdma> rdma;            // device name -> limits
    std::map<std::string, std::string> unified;  // raw cgroup2 "file" -> value
};

// From the linux.resources JSON (absent or null: all empty). Errors name the field:
// "linux.resources.memory.limit: must be an integer".
Result<Resources> parse_resources(const nlohmann::json& j);

}  // namespace cove::cgroups
