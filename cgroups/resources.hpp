// linux.resources (runtime-spec config-linux.md) as typed values. parse_resources() reads the
// JSON and validates every field before anything is written, with errors that name the field
// and the value ("linux.resources.memory.limit: -5 is not a valid limit"). Absent fields are
// nullopt; the backends also leave zeros alone, as runc does (docker sends zeros for what an
// update does not change). Also runc's v1 -> v2 value conversions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

namespace cove::cgroups {

// The prefix of every field name in errors.
inline constexpr const char* kResourcesField = "linux.resources";

struct DeviceRule {
    bool allow = false;
    char type = 'a';     // 'a' (all), 'c', 'b'
    int64_t major = -1;  // -1: any
    int64_t minor = -1;
    std::string access = "rwm";  // some of r, w, m

    // "c 1:3 rwm", as devices.allow, devices.deny and devices.list spell a rule.
    std::string to_string() const;
    bool operator==(const DeviceRule&) const = default;
};

struct WeightDevice {
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight;
};

struct ThrottleDevice {
    int64_t major = 0;
    int64_t minor = 0;
    uint64_t rate = 0;
};

struct HugepageLimit {
    std::string pagesize;  // "2MB", "1GB"
    uint64_t limit = 0;
};

struct IfPriority {
    std::string name;
    uint32_t priority = 0;
};

struct RdmaLimit {
    std::optional<uint32_t> hca_handles;
    std::optional<uint32_t> hca_objects;
};

struct MemoryResources {
    std::optional<int64_t> limit;
    std::optional<int64_t> reservation;
    std::optional<int64_t> swap;  // memory + swap, as on v1
    std::optional<int64_t> kernel;
    std::optional<int64_t> kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer;
    std::optional<bool> check_before_update;
};

struct CpuResources {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> period;
    std::optional<uint64_t> burst;
    std::optional<int64_t> realtime_runtime;
    std::optional<uint64_t> realtime_period;
    std::string cpus;
    std::string mems;
    std::optional<int64_t> idle;
};

struct BlockIoResources {
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight;
    std::vector<WeightDevice> weight_devices;
    std::vector<ThrottleDevice> read_bps;
    std::vector<ThrottleDevice> write_bps;
    std::vector<ThrottleDevice> read_iops;
    std::vector<ThrottleDevice> write_iops;
};

struct NetworkResources {
    std::optional<uint32_t> class_id;
    std::vector<IfPriority> priorities;
};

struct Resources {
    MemoryResources memory;
    CpuResources cpu;
    std::optional<int64_t> pids_limit;
    BlockIoResources block_io;
    std::vector<HugepageLimit> hugepage_limits;
    NetworkResources network;
    std::map<std::string, RdmaLimit> rdma;
    std::map<std::string, std::string> unified;
    // Absent: the devices controller is left alone (an update without devices).
    std::optional<std::vector<DeviceRule>> devices;
};

// Parses and validates linux.resources; null is an empty set. Checks: limits >= -1,
// memory.swap >= memory.limit, swappiness 0-100, cpu and memory node list syntax, blkio
// weights 10-1000, device types (a, b, c) and access (r, w, m), hugepage sizes ("2MB"),
// unified keys (file names).
Result<Resources> parse_resources(const nlohmann::json& j);

// runc's cgroups.ConvertCPUSharesToCgroupV2Value: [2, 262144] -> [1, 10000]; 0 stays 0.
uint64_t cpu_shares_to_weight(uint64_t shares);
// runc's cgroups.ConvertBlkIOToIOWeightValue: [10, 1000] -> [1, 10000]; 0 stays 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// runc's cgroups.ConvertMemorySwapToCgroupV2Value: memory.swap.max from the spec's swap
// (memory + swap) and limit; -1 is "max", 0 is unset.
Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit);
// runc's numToStr for v2 files: 0 -> "" (leave alone), -1 -> "max", else the number.
std::string v2_limit(int64_t value);

// "0-3,5": a cpuset list. Empty is valid (unset).
bool valid_cpu_list(std::string_view s);
// The numbers of a cpuset list ("0-2,4" -> 0 1 2 4); nullopt when malformed.
std::optional<std::vector<uint16_t>> parse_cpu_list(std::string_view s);

}  // namespace cove::cgroups
