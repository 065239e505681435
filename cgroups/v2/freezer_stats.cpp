// cgroup v2 freezer and statistics.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v2/controllers.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups::v2 {

namespace {

using nlohmann::json;

std::optional<uint64_t> key_of(CgroupFs& fs,
                               const std::string& dir,
                               const char* file,
                               const char* key) {
    return keyed_value(fs, join_path(dir, file), key);
}

json cpu_stats(CgroupFs& fs, const std::string& dir) {
    json usage = json::object();
    json thr = json::object();
    if (auto st = read_keyed(fs, join_path(dir, "cpu.stat"))) {
        auto& s = *st;
        put_nz(usage, "total", s["usage_usec"] * 1000);
        usage["kernel"] = s["system_usec"] * 1000;
        usage["user"] = s["user_usec"] * 1000;
        put_nz(thr, "periods", s["nr_periods"]);
        put_nz(thr, "throttledPeriods", s["nr_throttled"]);
        put_nz(thr, "throttledTime", s["throttled_usec"] * 1000);
    }
    return {{"usage", usage}, {"throttling", thr}};
}

json memory_stats(CgroupFs& fs, const std::string& dir) {
    json mem = json::object();
    auto raw = read_keyed(fs, join_path(dir, "memory.stat"));
    if (raw) {
        put_nz(mem, "cache", (*raw)["file"]);
    }
    uint64_t current = number_or_zero(fs, dir, "memory.current");
    uint64_t limit = number_or_zero(fs, dir, "memory.max");
    json usage = json::object();
    put_nz(usage, "usage", current);
    put_nz(usage, "max", number_or_zero(fs, dir, "memory.peak"));
    usage["failcnt"] = key_of(fs, dir, "memory.events", "max").value_or(0);
    usage["limit"] = limit;
    mem["usage"] = usage;
    // v1 reports swap as memory+swap; runc adds memory to v2's swap-only values likewise.
    uint64_t swap_limit = number_or_zero(fs, dir, "memory.swap.max");
    json swap = json::object();
    put_nz(swap, "usage", number_or_zero(fs, dir, "memory.swap.current") + current);
    put_nz(swap, "max", number_or_zero(fs, dir, "memory.swap.peak"));
    swap["failcnt"] = key_of(fs, dir, "memory.swap.events", "fail").value_or(0);
    swap["limit"] = swap_limit == kMax || limit == kMax ? kMax : swap_limit + limit;
    mem["swap"] = swap;
    if (raw && !raw->empty()) {
        mem["raw"] = *raw;
    }
    return mem;
}

json io_stats(CgroupFs& fs, const std::string& dir) {
    json bytes = json::array();
    json ios = json::array();
    auto text = fs.read(join_path(dir, "io.stat"));
    for (const auto& line : text ? str::split(*text, '\n') : std::vector<std::string>{}) {
        auto f = str::split(str::trim(line), ' ');
        auto mm = f.empty() ? std::vector<std::string>{} : str::split(f[0], ':');
        if (mm.size() != 2) {
            continue;
        }
        for (size_t i = 1; i < f.size(); ++i) {
            auto eq = f[i].find('=');
            if (eq == std::string::npos) {
                continue;
            }
            std::string k = f[i].substr(0, eq);
            uint64_t v = str::parse_uint(f[i].substr(eq + 1)).value_or(0);
            json e = json::object();
            put_nz(e, "major", str::parse_uint(mm[0]).value_or(0));
            put_nz(e, "minor", str::parse_uint(mm[1]).value_or(0));
            e["op"] = (k == "rbytes" || k == "rios") ? "Read" : "Write";
            put_nz(e, "value", v);
            if (k == "rbytes" || k == "wbytes") {
                bytes.push_back(std::move(e));
            } else if (k == "rios" || k == "wios") {
                ios.push_back(std::move(e));
            }
        }
    }
    json b = json::object();
    if (!bytes.empty()) {
        b["ioServiceBytesRecursive"] = std::move(bytes);
    }
    if (!ios.empty()) {
        b["ioServicedRecursive"] = std::move(ios);
    }
    return b;
}

json hugetlb_stats(CgroupFs& fs, const std::string& dir) {
    json h = json::object();
    for (const char* size : {"64KB", "2MB", "32MB", "1GB", "16GB"}) {
        std::string pre = std::string("hugetlb.") + size;
        if (!file_exists(fs, join_path(dir, pre + ".current"))) {
            continue;
        }
        json e = json::object();
        put_nz(e, "usage", number_or_zero(fs, dir, pre + ".current"));
        e["failcnt"] = key_of(fs, dir, (pre + ".events").c_str(), "max").value_or(0);
        h[size] = std::move(e);
    }
    return h;
}

}  // namespace

Status set_freeze(CgroupFs& fs, const std::string& dir, bool frozen) {
    const char* what = frozen ? "freeze" : "thaw";
    std::string file = join_path(dir, "cgroup.freeze");
    auto st = fs.write(file, frozen ? "1" : "0");
    if (!st && st.error().code() == ENOENT) {
        return make_error(std::string(what) + ": " + file +
                          " is missing (the cgroup v2 freezer needs kernel 5.2)");
    }
    COVE_TRY(std::move(st), what);
    // cgroup.events says "frozen 1" once every task has stopped; about 10 s at most.
    for (int i = 0; i < 1000; ++i) {
        COVE_ASSIGN(bool now, is_frozen(fs, dir), what);
        if (now == frozen) {
            return {};
        }
        sleep_ms(i < 10 ? 1 : 10);
    }
    if (frozen) {
        (void)fs.write(file, "0");
    }
    return make_error(std::string(what) + ": " + dir + "/cgroup.events did not report frozen " +
                      (frozen ? "1" : "0"));
}

Result<bool> is_frozen(CgroupFs& fs, const std::string& dir) {
    auto v = keyed_value(fs, join_path(dir, "cgroup.events"), "frozen");
    if (!v) {
        // No freezer in this kernel: never frozen.
        return false;
    }
    return *v == 1;
}

json stats(CgroupFs& fs, const std::string& dir) {
    json out = json::object();
    out["cpu"] = cpu_stats(fs, dir);
    out["memory"] = memory_stats(fs, dir);
    json p = json::object();
    put_nz(p, "current", number_or_zero(fs, dir, "pids.current"));
    uint64_t limit = number_or_zero(fs, dir, "pids.max");
    put_nz(p, "limit", limit == kMax ? 0 : limit);
    out["pids"] = p;
    out["blkio"] = io_stats(fs, dir);
    out["hugetlb"] = hugetlb_stats(fs, dir);
    return out;
}

}  // namespace cove::cgroups::v2
