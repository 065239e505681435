// cgroup v1 statistics in runc's `events --stats` shape (runc types/events.go): zero values
// are left out where runc's JSON tags say omitempty.
#include <unistd.h>

#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v1/controllers.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups::v1 {

namespace {

using nlohmann::json;

std::vector<uint64_t> num_list(CgroupFs& fs, const std::string& path) {
    std::vector<uint64_t> out;
    auto text = fs.read(path);
    if (!text) {
        return out;
    }
    for (const auto& f : str::split(str::trim(*text), ' ')) {
        if (auto n = str::parse_uint(f)) {
            out.push_back(*n);
        }
    }
    return out;
}

// {usage, max, failcnt, limit} of one memory counter family ("memory", "memory.memsw").
json memory_entry(CgroupFs& fs, const std::string& dir, const std::string& prefix) {
    json e = json::object();
    put_nz(e, "usage", number_or_zero(fs, dir, prefix + ".usage_in_bytes"));
    put_nz(e, "max", number_or_zero(fs, dir, prefix + ".max_usage_in_bytes"));
    e["failcnt"] = number_or_zero(fs, dir, prefix + ".failcnt");
    e["limit"] = number_or_zero(fs, dir, prefix + ".limit_in_bytes");
    return e;
}

// blkio "8:0 Read 4096" lines (the "Total" line is skipped, as runc does).
json blkio_entries(CgroupFs& fs, const std::string& path) {
    json arr = json::array();
    auto text = fs.read(path);
    if (!text) {
        return arr;
    }
    for (const auto& line : str::split(*text, '\n')) {
        auto f = str::split(str::trim(line), ' ');
        if (f.size() != 3) {
            continue;
        }
        auto mm = str::split(f[0], ':');
        auto v = str::parse_uint(f[2]);
        if (mm.size() != 2 || !v) {
            continue;
        }
        json e = json::object();
        put_nz(e, "major", str::parse_uint(mm[0]).value_or(0));
        put_nz(e, "minor", str::parse_uint(mm[1]).value_or(0));
        e["op"] = f[1];
        put_nz(e, "value", *v);
        arr.push_back(std::move(e));
    }
    return arr;
}

}  // namespace

void cpu_stats(CgroupFs& fs,
               const std::string& cpu_dir,
               const std::string& cpuacct_dir,
               json& out) {
    json cpu = json::object();
    json usage = json::object();
    if (!cpuacct_dir.empty()) {
        put_nz(usage, "total", number_or_zero(fs, cpuacct_dir, "cpuacct.usage"));
        auto percpu = num_list(fs, join_path(cpuacct_dir, "cpuacct.usage_percpu"));
        if (!percpu.empty()) {
            usage["percpu"] = percpu;
        }
        auto k = num_list(fs, join_path(cpuacct_dir, "cpuacct.usage_percpu_sys"));
        if (!k.empty()) {
            usage["percpu_kernel"] = k;
        }
        auto u = num_list(fs, join_path(cpuacct_dir, "cpuacct.usage_percpu_user"));
        if (!u.empty()) {
            usage["percpu_user"] = u;
        }
        // cpuacct.stat counts clock ticks; runc reports nanoseconds.
        auto st = read_keyed(fs, join_path(cpuacct_dir, "cpuacct.stat"));
        long hz = ::sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / static_cast<uint64_t>(hz) : 10000000ULL;
        usage["kernel"] = st ? (*st)["system"] * ns_per_tick : 0;
        usage["user"] = st ? (*st)["user"] * ns_per_tick : 0;
    }
    cpu["usage"] = usage;
    json thr = json::object();
    if (!cpu_dir.empty()) {
        if (auto st = read_keyed(fs, join_path(cpu_dir, "cpu.stat"))) {
            put_nz(thr, "periods", (*st)["nr_periods"]);
            put_nz(thr, "throttledPeriods", (*st)["nr_throttled"]);
            put_nz(thr, "throttledTime", (*st)["throttled_time"]);
        }
    }
    cpu["throttling"] = thr;
    out["cpu"] = std::move(cpu);
}

void memory_stats(CgroupFs& fs, const std::string& dir, json& out) {
    json mem = json::object();
    auto raw = read_keyed(fs, join_path(dir, "memory.stat"));
    if (raw) {
        put_nz(mem, "cache", (*raw)["cache"]);
    }
    mem["usage"] = memory_entry(fs, dir, "memory");
    mem["swap"] = memory_entry(fs, dir, "memory.memsw");
    mem["kernel"] = memory_entry(fs, dir, "memory.kmem");
    mem["kernelTCP"] = memory_entry(fs, dir, "memory.kmem.tcp");
    if (raw && !raw->empty()) {
        mem["raw"] = *raw;
    }
    out["memory"] = std::move(mem);
}

void pids_stats(CgroupFs& fs, const std::string& dir, json& out) {
    json p = json::object();
    put_nz(p, "current", number_or_zero(fs, dir, "pids.current"));
    uint64_t limit = number_or_zero(fs, dir, "pids.max");
    put_nz(p, "limit", limit == kMax ? 0 : limit);  // runc: "max" is 0 (no limit)
    out["pids"] = std::move(p);
}

void blkio_stats(CgroupFs& fs, const std::string& dir, json& out) {
    json b = json::object();
    // CFQ's files when present (pre-5.0 kernels), else the throttle layer's, as runc does.
    bool cfq = file_exists(fs, join_path(dir, "blkio.io_service_bytes_recursive"));
    std::string pre = cfq ? "blkio." : "blkio.throttle.";
    auto bytes = blkio_entries(fs, join_path(dir, pre + "io_service_bytes_recursive"));
    auto ios = blkio_entries(fs, join_path(dir, pre + "io_serviced_recursive"));
    if (!bytes.empty()) {
        b["ioServiceBytesRecursive"] = std::move(bytes);
    }
    if (!ios.empty()) {
        b["ioServicedRecursive"] = std::move(ios);
    }
    out["blkio"] = std::move(b);
}

void hugetlb_stats(CgroupFs& fs, const std::string& dir, json& out) {
    json h = json::object();
    for (const char* size : {"64KB", "2MB", "32MB", "1GB", "16GB"}) {
        std::string pre = std::string("hugetlb.") + size;
        if (!file_exists(fs, join_path(dir, pre + ".usage_in_bytes"))) {
            continue;
        }
        json e = json::object();
        put_nz(e, "usage", number_or_zero(fs, dir, pre + ".usage_in_bytes"));
        put_nz(e, "max", number_or_zero(fs, dir, pre + ".max_usage_in_bytes"));
        e["failcnt"] = number_or_zero(fs, dir, pre + ".failcnt");
        h[size] = std::move(e);
    }
    out["hugetlb"] = std::move(h);
}

}  // namespace cove::cgroups::v1
