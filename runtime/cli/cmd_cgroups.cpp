// pause, resume, update, events: the cgroup commands.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/log.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/cli/cli.hpp"

namespace cove::cli {
namespace {

constexpr const char* kUpdateHelp =
    R"(The accepted format of --resources (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0,
    "checkBeforeUpdate": true
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "burst": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": "",
    "idle": 0
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.)";

// docker/go-units RAMInBytes, which runc's update uses: "512m", "1.5g", "64MiB", "100";
// binary multiples; the fraction is truncated.
Result<int64_t> ram_in_bytes(const std::string& s) {
    size_t i = 0;
    auto digits = [&] {
        size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
            ++i;
        }
        return i > start;
    };
    bool ok = digits();
    while (ok && i < s.size() && s[i] == '.') {
        ++i;
        ok = digits();
    }
    size_t num_end = i;
    if (ok && i < s.size() && s[i] == ' ') {
        ++i;
    }
    long double mul = 1;
    static const std::map<char, int> kPow = {{'k', 1}, {'m', 2}, {'g', 3}, {'t', 4}, {'p', 5}};
    if (ok && i < s.size()) {
        auto it = kPow.find(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
        if (it != kPow.end()) {
            mul = std::pow(1024.0L, it->second);
            ++i;
        }
    }
    if (ok && i < s.size() && (s[i] == 'i' || s[i] == 'I')) {
        ++i;
    }
    if (ok && i < s.size() && (s[i] == 'b' || s[i] == 'B')) {
        ++i;
    }
    if (!ok || i != s.size()) {
        return make_error("invalid size: '" + s + "'");
    }
    long double v = std::strtold(s.substr(0, num_end).c_str(), nullptr) * mul;
    if (v >= 9.2233720368547758e18L) {
        return make_error("invalid size: '" + s + "': too large");
    }
    return static_cast<int64_t>(v);
}

// Go's time.ParseDuration, as urfave/cli reads runc's --interval: "5s", "100ms", "1m30s",
// "1.5h", "0".
Result<std::chrono::nanoseconds> parse_duration(const std::string& s) {
    auto bad = [&] { return make_error("invalid duration \"" + s + "\""); };
    std::string_view in = s;
    bool neg = false;
    if (!in.empty() && (in[0] == '-' || in[0] == '+')) {
        neg = in[0] == '-';
        in.remove_prefix(1);
    }
    if (in == "0") {
        return std::chrono::nanoseconds(0);
    }
    if (in.empty()) {
        return bad();
    }
    static const std::pair<std::string_view, long double> kUnits[] = {
        {"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
        {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};
    long double total = 0;
    while (!in.empty()) {
        size_t n = 0;
        while (n < in.size() &&
               (std::isdigit(static_cast<unsigned char>(in[n])) != 0 || in[n] == '.')) {
            ++n;
        }
        if (n == 0) {
            return bad();
        }
        long double v = std::strtold(std::string(in.substr(0, n)).c_str(), nullptr);
        in.remove_prefix(n);
        size_t u = 0;
        while (u < in.size() && in[u] != '.' &&
               std::isdigit(static_cast<unsigned char>(in[u])) == 0) {
            ++u;
        }
        std::string_view unit = in.substr(0, u);
        in.remove_prefix(u);
        auto it = std::find_if(std::begin(kUnits), std::end(kUnits),
                               [&](const auto& k) { return k.first == unit; });
        if (it == std::end(kUnits)) {
            return bad();
        }
        total += v * it->second;
    }
    if (total > 9.2e18L) {
        return bad();
    }
    auto ns = std::chrono::nanoseconds(static_cast<int64_t>(total));
    return neg ? -ns : ns;
}

Result<nlohmann::json> read_resources_file(const std::string& path) {
    std::string text;
    if (path == "-") {
        COVE_ASSIGN(text, fs::read_fd(STDIN_FILENO), "--resources: read stdin");
    } else {
        COVE_ASSIGN(text, fs::read_file(path), "--resources");
    }
    COVE_ASSIGN(json::Json j, json::parse(text), "--resources " + path);
    if (!j.is_object()) {
        return make_error("--resources " + path + ": must be a JSON object");
    }
    return nlohmann::json(j);
}

struct UpdateFlags {
    std::string resources;
    int64_t blkio_weight = 0;
    int64_t pids_limit = 0;
    std::map<std::string, std::string> values;  // flag name -> value as given
    std::string l3_cache_schema, mem_bw_schema;
};

// The flags' values in linux.resources' shape, with runc's parsing of each.
Result<nlohmann::json> resources_from_flags(const UpdateFlags& f) {
    nlohmann::json r = nlohmann::json::object();
    auto val = [&](const char* name) -> const std::string* {
        auto it = f.values.find(name);
        return it == f.values.end() || it->second.empty() ? nullptr : &it->second;
    };
    if (f.blkio_weight != 0) {
        r["blockIO"]["weight"] = f.blkio_weight;
    }
    if (const auto* v = val("cpuset-cpus")) {
        r["cpu"]["cpus"] = *v;
    }
    if (const auto* v = val("cpuset-mems")) {
        r["cpu"]["mems"] = *v;
    }
    static const std::pair<const char*, const char*> kUnsigned[] = {
        {"cpu-burst", "burst"},
        {"cpu-period", "period"},
        {"cpu-rt-period", "realtimePeriod"},
        {"cpu-share", "shares"}};
    for (const auto& [flag, key] : kUnsigned) {
        if (const auto* v = val(flag)) {
            auto n = str::parse_uint(*v);
            if (!n) {
                return make_error(std::string("invalid value for ") + flag + ": \"" + *v +
                                  "\" is not an unsigned integer");
            }
            r["cpu"][key] = *n;
        }
    }
    static const std::pair<const char*, const char*> kSigned[] = {
        {"cpu-quota", "quota"}, {"cpu-rt-runtime", "realtimeRuntime"}, {"cpu-idle", "idle"}};
    for (const auto& [flag, key] : kSigned) {
        if (const auto* v = val(flag)) {
            auto n = str::parse_int(*v);
            if (!n) {
                return make_error(std::string("invalid value for ") + flag + ": \"" + *v +
                                  "\" is not an integer");
            }
            r["cpu"][key] = *n;
        }
    }
    static const std::pair<const char*, const char*> kMemory[] = {
        {"memory", "limit"}, {"memory-swap", "swap"}, {"memory-reservation", "reservation"}};
    for (const auto& [flag, key] : kMemory) {
        if (const auto* v = val(flag)) {
            int64_t n = -1;
            if (*v != "-1") {
                COVE_ASSIGN(n, ram_in_bytes(*v), std::string("invalid value for ") + flag);
            }
            r["memory"][key] = n;
        }
    }
    for (const char* flag : {"kernel-memory", "kernel-memory-tcp"}) {
        if (val(flag) != nullptr) {
            log::warn(std::string("setting --") + flag + " is ignored and will be removed");
        }
    }
    if (f.pids_limit != 0) {
        r["pids"]["limit"] = f.pids_limit;
    }
    return r;
}

void print_event(const nlohmann::ordered_json& e) {
    std::string line = e.dump() + "\n";
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
}

}  // namespace

void add_cgroup_commands(CLI::App& app, Cli& cli) {
    {
        auto* cmd =
            app.add_subcommand("pause", "pause suspends all processes inside the container");
        auto id = std::make_shared<std::string>();
        cmd->add_option("container-id", *id, "the container's id")->required();
        cmd->callback([&cli, id] { guard(cli, [&] { return pause(cli.global, *id); }); });
    }
    {
        auto* cmd = app.add_subcommand("resume", "resumes all processes that have been paused");
        auto id = std::make_shared<std::string>();
        cmd->add_option("container-id", *id, "the container's id")->required();
        cmd->callback([&cli, id] { guard(cli, [&] { return resume(cli.global, *id); }); });
    }
    {
        auto* cmd = app.add_subcommand("update", "update container resource constraints");
        cmd->footer(kUpdateHelp);
        auto id = std::make_shared<std::string>();
        auto f = std::make_shared<UpdateFlags>();
        cmd->add_option("container-id", *id, "the container's id")->required();
        cmd->add_option("-r,--resources", f->resources,
                        "path to the file containing the resources to update or '-' to read "
                        "from the standard input");
        cmd->add_option("--blkio-weight", f->blkio_weight,
                        "Specifies per cgroup weight, range is from 10 to 1000");
        static const std::pair<const char*, const char*> kFlags[] = {
            {"cpu-period",
             "CPU CFS period to be used for hardcapping (in usecs). 0 to use "
             "system default"},
            {"cpu-quota", "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
            {"cpu-burst",
             "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time "
             "additionally for burst a given period"},
            {"cpu-share", "CPU shares (relative weight vs. other containers)"},
            {"cpu-rt-period",
             "CPU realtime period to be used for hardcapping (in usecs). 0 to "
             "use system default"},
            {"cpu-rt-runtime",
             "CPU realtime hardcap limit (in usecs). Allowed cpu time in a "
             "given period"},
            {"cpuset-cpus", "CPU(s) to use"},
            {"cpuset-mems", "Memory node(s) to use"},
            {"kernel-memory", "(obsoleted; do not use)"},
            {"kernel-memory-tcp", "(obsoleted; do not use)"},
            {"memory", "Memory limit (in bytes)"},
            {"cpu-idle", "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"},
            {"memory-reservation", "Memory reservation or soft_limit (in bytes)"},
            {"memory-swap",
             "Total memory usage (memory + swap); set '-1' to enable unlimited "
             "swap"},
        };
        for (const auto& [name, help] : kFlags) {
            cmd->add_option(std::string("--") + name, f->values[name], help);
        }
        cmd->add_option("--pids-limit", f->pids_limit,
                        "Maximum number of pids allowed in the container");
        cmd->add_option("--l3-cache-schema", f->l3_cache_schema,
                        "The string of Intel RDT/CAT L3 cache schema");
        cmd->add_option("--mem-bw-schema", f->mem_bw_schema,
                        "The string of Intel RDT/MBA memory bandwidth schema");
        cmd->callback([&cli, id, f] {
            guard(cli, [&]() -> Status {
                UpdateOptions o;
                if (!f->resources.empty()) {
                    COVE_ASSIGN(o.resources, read_resources_file(f->resources), "update");
                } else {
                    COVE_ASSIGN(o.resources, resources_from_flags(*f), "update");
                }
                o.l3_cache_schema = f->l3_cache_schema;
                o.mem_bw_schema = f->mem_bw_schema;
                return update(cli.global, *id, o);
            });
        });
    }
    {
        auto* cmd = app.add_subcommand(
            "events",
            "display container events such as OOM notifications, cpu, memory, and IO usage "
            "statistics");
        cmd->footer(
            "The events command displays information about the container. By default the\n"
            "information is displayed once every 5 seconds.");
        auto id = std::make_shared<std::string>();
        auto interval = std::make_shared<std::string>("5s");
        auto stats = std::make_shared<bool>(false);
        cmd->add_option("container-id", *id, "the container's id")->required();
        cmd->add_option("--interval", *interval, "set the stats collection interval")
            ->capture_default_str();
        cmd->add_flag("--stats", *stats, "display the container's stats then exit");
        cmd->callback([&cli, id, interval, stats] {
            guard(cli, [&]() -> Status {
                EventsOptions o;
                o.stats = *stats;
                COVE_ASSIGN(o.interval, parse_duration(*interval), "--interval");
                return events(cli.global, *id, o, print_event);
            });
        });
    }
}

}  // namespace cove::cli
