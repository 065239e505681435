// Small helpers the v1 and v2 controllers share: writing one control file with the field
// named in the error, reading numbers ("max" aware), flat keyed files (memory.stat,
// cpu.stat), statistics (omitempty), rdma.max, waiting, and the "is this field set" rules
// runc applies (0 means unset).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cgroups/cgroupfs.hpp"
#include "cgroups/resources.hpp"

namespace cove::cgroups {

constexpr uint64_t kMax = UINT64_MAX;  // "max" / "-1" read as a number

// Writes dir/name; an error reads "<field>: write <path>: <cause>".
Status write_field(CgroupFs& fs,
                   const std::string& dir,
                   const char* name,
                   std::string_view value,
                   std::string_view field);

// A number from dir/name: "max" and v1's huge "unlimited" values give kMax.
Result<uint64_t> read_number(CgroupFs& fs, const std::string& path);
// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
Result<std::map<std::string, uint64_t>> read_keyed(CgroupFs& fs, const std::string& path);
// The value of one key in a keyed file; nullopt when the file or the key is missing.
std::optional<uint64_t> keyed_value(CgroupFs& fs, const std::string& path, const char* key);
bool file_exists(CgroupFs& fs, const std::string& path);
// dir/name as a number; 0 when it is missing or not a number (statistics leave it out).
uint64_t number_or_zero(CgroupFs& fs, const std::string& dir, const std::string& name);
// o[key] = v unless v is 0 (runc's omitempty on statistics).
void put_nz(nlohmann::json& o, const char* key, uint64_t v);

// rdma.max "<device> hca_handle=N hca_object=N" per device (the same file in v1 and v2); a
// device with neither limit is left alone.
Status set_rdma(CgroupFs& fs,
                const std::string& dir,
                const std::map<std::string, Resources::Rdma>& rdma);

// Parent directory of a cgroup dir.
std::string parent_dir(const std::string& dir);

// "linux.resources.cpu.cpus: cpus 4-7 are not in the parent cgroup's 0-3" when list names
// a cpu (or node) outside what the parent offers; nothing when the parent's file is absent.
Status check_cpuset_subset(CgroupFs& fs,
                           const std::string& parent_file,
                           const std::string& list,
                           std::string_view field);

void sleep_ms(int ms);

// A field that runc treats as set (its zero value means "leave alone").
inline bool set(const std::optional<int64_t>& v) {
    return v && *v != 0;
}
inline bool set(const std::optional<uint64_t>& v) {
    return v && *v != 0;
}

// -1 (or any negative) -> "max", else the number.
std::string max_or(int64_t v);

}  // namespace cove::cgroups
