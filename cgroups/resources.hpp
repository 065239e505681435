// linux.resources as typed values (runtime-spec config-linux.md "Control groups"), parsed once
// and handed to a Manager's apply()/update(). Absent fields stay std::nullopt/empty and are
// never written, so `update` changes only what it names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
// "linux.resources.memory.limit: must be an integer". What is invalid on every cgroup
// version is refused here (device type and access, swappiness > 100, cpus/mems syntax,
// unified keys that are not a plain file name); what depends on the host (cpus beyond the
// parent's, a controller that is not there) is refused by apply().
Result<Resources> parse_resources(const nlohmann::json& j);

// Appends runc's default allowed device rules (specconv AllowedDevices) after the spec's:
// mknod of any char or block device, /dev/null, random, full, tty, zero, urandom, the pts
// devices (136:*) and /dev/ptmx (5:2). create calls it; update does not.
void append_default_device_rules(Resources& r);

// Warnings for fields accepted but ignored, as runc logs them: kernel memory limits
// ("linux.resources.memory.kernel: ignored (kernel memory limits are deprecated)").
std::vector<std::string> resource_warnings(const Resources& r);

// "0-3,5" -> {0,1,2,3,5}; errors name what is wrong in the list. Empty gives {}.
Result<std::vector<int>> parse_cpu_list(std::string_view list);

// runc's conversions for cgroup v2.
// cpu.shares [2, 262144] -> cpu.weight [1, 10000] (ConvertCPUSharesToCgroupV2Value); 0 -> 0.
uint64_t cpu_shares_to_weight(uint64_t shares);
// blkio.weight [10, 1000] -> io.weight [1, 10000] (ConvertBlkIOToIOWeightValue); 0 -> 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// memory.swap.max from the spec's memory+swap total (ConvertMemorySwapToCgroupV2Value):
// -1 -> "max"; swap 0 (unset) -> "" (nothing to write); otherwise swap - limit, which needs
// a limit other than -1 and swap >= limit.
Result<std::string> memory_swap_to_v2(int64_t swap, int64_t limit);

}  // namespace cove::cgroups
