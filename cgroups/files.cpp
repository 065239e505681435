#include "cgroups/files.hpp"

#include <algorithm>
#include <ctime>

#include "runtime/base/strings.hpp"

namespace cove::cgroups {

Status write_field(CgroupFs& fs,
                   const std::string& dir,
                   const char* name,
                   std::string_view value,
                   std::string_view field) {
    COVE_TRY(fs.write(join_path(dir, name), value), field);
    return {};
}

Result<uint64_t> read_number(CgroupFs& fs, const std::string& path) {
    COVE_ASSIGN(std::string text, fs.read(path), "");
    auto v = str::trim(text);
    if (v == "max" || v == "-1") {
        return kMax;
    }
    auto n = str::parse_uint(v);
    if (!n) {
        return make_error("read " + path + ": \"" + std::string(v) + "\" is not a number");
    }
    return *n;
}

Result<std::map<std::string, uint64_t>> read_keyed(CgroupFs& fs, const std::string& path) {
    COVE_ASSIGN(std::string text, fs.read(path), "");
    std::map<std::string, uint64_t> out;
    for (const auto& line : str::split(text, '\n')) {
        auto sp = line.find(' ');
        if (sp == std::string::npos) {
            continue;
        }
        auto v = str::trim(std::string_view(line).substr(sp + 1));
        auto n = v == "max" ? std::optional<uint64_t>(kMax) : str::parse_uint(v);
        if (n) {
            out[line.substr(0, sp)] = *n;
        }
    }
    return out;
}

std::optional<uint64_t> keyed_value(CgroupFs& fs, const std::string& path, const char* key) {
    auto m = read_keyed(fs, path);
    if (!m) {
        return std::nullopt;
    }
    auto it = m->find(key);
    return it == m->end() ? std::nullopt : std::optional<uint64_t>(it->second);
}

Status set_rdma(CgroupFs& fs,
                const std::string& dir,
                const std::map<std::string, Resources::Rdma>& rdma) {
    for (const auto& [device, r] : rdma) {
        std::string line = device;
        if (r.hca_handles) {
            line += " hca_handle=" + std::to_string(*r.hca_handles);
        }
        if (r.hca_objects) {
            line += " hca_object=" + std::to_string(*r.hca_objects);
        }
        if (line != device) {
            COVE_TRY(write_field(fs, dir, "rdma.max", line, "linux.resources.rdma." + device), "");
        }
    }
    return {};
}

uint64_t number_or_zero(CgroupFs& fs, const std::string& dir, const std::string& name) {
    auto v = read_number(fs, join_path(dir, name));
    return v ? *v : 0;
}

void put_nz(nlohmann::json& o, const char* key, uint64_t v) {
    if (v != 0) {
        o[key] = v;
    }
}

bool file_exists(CgroupFs& fs, const std::string& path) {
    auto r = fs.read(path);
    return r || r.error().code() != ENOENT;
}

std::string parent_dir(const std::string& dir) {
    auto slash = dir.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

Status check_cpuset_subset(CgroupFs& fs,
                           const std::string& parent_file,
                           const std::string& list,
                           std::string_view field) {
    auto parent = fs.read(parent_file);
    if (!parent || str::trim(*parent).empty()) {
        return {};
    }
    COVE_ASSIGN(auto want, parse_cpu_list(list), field);
    auto have = parse_cpu_list(*parent);
    if (!have) {
        return {};
    }
    std::vector<std::string> missing;
    for (int c : want) {
        if (!std::binary_search(have->begin(), have->end(), c)) {
            missing.push_back(std::to_string(c));
        }
    }
    if (missing.empty()) {
        return {};
    }
    return make_error(std::string(field) + ": " + str::join(missing, ",") +
                      (missing.size() == 1 ? " is" : " are") + " not available (the parent " +
                      "cgroup has " + std::string(str::trim(*parent)) + ")");
}

void sleep_ms(int ms) {
    struct timespec ts {};
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

std::string max_or(int64_t v) {
    return v < 0 ? "max" : std::to_string(v);
}

}  // namespace cove::cgroups
